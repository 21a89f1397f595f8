"""Regenerate ``src/dalda/costs/flops.json``: the forward FLOPs ``dalda.costs`` builds its GPU-hour estimates on.

Counted once on the meta device (``dalda.costs.counting``; no weights, a minute on a CPU): one UNet step and one
VAE decode per UNet family at several sizes (the estimate fits FLOPs = a + b·N + c·N² over the latent pixel count
N, exact for these architectures since convolutions and projections grow with N and self-attention with N²), the
IP-Adapter image encoder per reference image, and each classifier backbone per image.

    python benchmarks/count_flops.py            # writes src/dalda/costs/flops.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from dalda.costs.counting import (
    UNET_FAMILIES,
    image_encoder_flops,
    probe_backbone_flops,
    unet_step_flops,
    vae_decode_flops,
)
from dalda.io import write_text_atomic

RESOLUTIONS = (256, 512, 768, 1024)
PROBES = ("resnet50", "clip")
TARGET = Path(__file__).resolve().parents[1] / "src" / "dalda" / "costs" / "flops.json"


def table() -> dict:
    families = {}
    for family in UNET_FAMILIES:
        families[family] = {
            "unet_step": {str(size): unet_step_flops(family, size) for size in RESOLUTIONS},
            "vae_decode": {str(size): vae_decode_flops(family, size) for size in RESOLUTIONS},
        }
        print(family, families[family], flush=True)
    probes = {}
    for name in PROBES:
        flops, size = probe_backbone_flops(name)
        probes[name] = {"flops": flops, "image_size": size}
    return {
        "note": "Forward FLOPs for one image (2 per multiply-add; matmul, convolution and attention only), counted "
        "on the full-random profile's architectures by benchmarks/count_flops.py. Keys of unet_step and "
        "vae_decode are image sizes in pixels.",
        "families": families,
        "image_encoder": image_encoder_flops(),
        "probes": probes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=TARGET, help="where to write the table")
    args = parser.parse_args()
    write_text_atomic(args.out, json.dumps(table(), indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

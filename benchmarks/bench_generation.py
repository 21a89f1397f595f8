"""Images per second: the authors' one-image-per-call loop against dalda's batched per-image-lambda engine.

Both paths make the same rows (prompt, lambda, seed, reference image) with the same pipeline
(``generation_paths.py``; ``--compare`` picks the generator, DALDA's ``ip-adapter`` by default):

(a) authors' way: for every image, ``pipe.set_ip_adapter_scale(lambda)`` and one pipeline call with
    ``ip_adapter_image=`` (so the reference image is encoded again for every image); for the img2img
    baselines, one img2img call per image;
(b) dalda's engine: each reference image encoded once, rows generated ``--batch-size`` at a time with a
    lambda per image (``dalda.generators.ip_adapter_engine.GenerationEngine``).

Both include PIL conversion, not the resize back to the reference's size nor PNG writing (the generation
stage's writer threads do those beside the GPU). One warm-up call per path is excluded from timing; the paths
then alternate for ``--repeats`` rounds and each path's best round is reported (the least disturbed by other
programs, as ``timeit`` advises). ``--profile full-random`` builds the real SD1.5 + IP-Adapter (ViT-H image
encoder) architectures with random weights (true compute, no download), ``--profile tiny`` the test models.

    python benchmarks/bench_generation.py --profile tiny --resolution 64 --steps 3
    python benchmarks/bench_generation.py --generator ip-adapter ip-adapter-plus sdxl-ip-adapter \
        --profile full-random --steps 1 --batch-size 1    # per-generator s/step and sizes (generator_costs.py)
    python benchmarks/bench_generation.py --profile full-random --resolution 512 --steps 30 --batch-size 8 \\
        --images 40 --record benchmarks/results/generation.md        # GPU: fp16 by default

``--writer`` measures the other half of ``dalda generate``: the PNG writer (``dalda.generation.stage.PngWriter``,
the class the stage uses) fed generated-size images that it resizes back to large sources (512 px, 1024x768,
4032x3024 phone photos), encodes and writes atomically with their manifest lines, with 1 and N threads and
several compression levels, printing images/s side by side (no model is loaded):

    python benchmarks/bench_generation.py --writer --writer-threads 1 2 4 --levels 1 6 \\
        --record benchmarks/results/generation.md
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import torch
from PIL import Image

import generation_paths
import generator_costs
from dalda.artefacts import ManifestLine
from dalda.generators import GENERATORS
from dalda.generation.stage import PngWriter
from dalda.rundir import RunDir

WRITER_SOURCES = ((512, 512), (1024, 768), (4032, 3024))
"""Source sizes the writer resizes back to: a typical few-shot image, a large web image, a phone photo."""
WRITER_TABLE = "## PNG writer"


def _generated_image(resolution: int, seed: int) -> Image.Image:
    """A picture with a generated image's texture (smooth shapes plus fine noise), so PNG compression works
    about as hard as on real output (pure noise would not compress at all, a flat colour too well)."""
    rng = np.random.default_rng(seed)
    coarse = Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).resize(
        (resolution, resolution), Image.Resampling.BICUBIC
    )
    noise = rng.normal(0.0, 6.0, (resolution, resolution, 3))
    return Image.fromarray(np.clip(np.asarray(coarse, dtype=np.float64) + noise, 0, 255).astype(np.uint8))


@dataclass(frozen=True)
class WriterResult:
    source: tuple[int, int]
    level: int
    threads: int
    images: int
    rate: float
    """Images per second, from the first submitted image to the last file and manifest line written."""


def writer_images(source: tuple[int, int], at_512: int) -> int:
    """How many images to time for a source size: ``at_512`` up to 512 px, fewer (at least 2) for larger ones."""
    return max(2, round(at_512 * min(1.0, 512 * 512 / (source[0] * source[1]))))


def bench_writer(
    sources: Sequence[tuple[int, int]],
    threads: Sequence[int],
    levels: Sequence[int],
    at_512: int,
    folder: Path,
    resolution: int = 512,
) -> list[WriterResult]:
    """Time the generation stage's writer for every (source, level, threads): each run writes
    ``writer_images`` images of ``resolution`` px, resized back to the source size, into a fresh run folder."""
    results = []
    for source in sources:
        count = writer_images(source, at_512)
        images = [_generated_image(resolution, seed) for seed in range(count)]
        for level in levels:
            for workers in threads:
                run = RunDir(Path(tempfile.mkdtemp(prefix=f"writer-{source[0]}x{source[1]}-", dir=folder)))
                writer = PngWriter(run, run.manifest, True, level, workers)
                start = time.perf_counter()
                try:
                    for index, image in enumerate(images):
                        writer.submit([(image, source, ManifestLine(f"{index:06d}.png", row_id=index))])
                finally:
                    writer.close()
                rate = count / (time.perf_counter() - start)
                results.append(WriterResult(source, level, workers, count, rate))
                print(f"  {source[0]}x{source[1]}, level {level}, {workers} thread(s): {rate:.2f} images/s")
    return results


def writer_table(results: Sequence[WriterResult]) -> list[list[str]]:
    """One row per (source, level) with the rate of every thread count side by side, plus the best speed-up."""
    threads = sorted({result.threads for result in results})
    rows = [["source", "level", *(f"{n} thread{'s' if n > 1 else ''} img/s" for n in threads), "speed-up"]]
    keys = dict.fromkeys((result.source, result.level) for result in results)
    for source, level in keys:
        rate = {r.threads: r.rate for r in results if (r.source, r.level) == (source, level)}
        speed_up = max(rate.values()) / rate[threads[0]]
        rows.append(
            [f"{source[0]}x{source[1]}", str(level), *(f"{rate[n]:.2f}" for n in threads), f"{speed_up:.2f}x"]
        )
    return rows


def _machine() -> str:
    load = ", load {:.1f}".format(os.getloadavg()[0]) if hasattr(os, "getloadavg") else ""
    return f"{platform.machine()} {platform.processor() or platform.system()}, {os.cpu_count()} CPUs{load}"


def record_writer(path: Path, results: Sequence[WriterResult]) -> None:
    """Append one row per result to the ``| date |`` table of the ``WRITER_TABLE`` section of ``path`` (the
    file's other tables, including the generation table it ends with, stay as they are)."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    heading = next((i for i, line in enumerate(lines) if line.strip() == WRITER_TABLE), None)
    start = next(
        (i for i in range(heading + 1, len(lines)) if lines[i].startswith("| date |")) if heading is not None else [],
        None,
    )
    if start is None:
        raise SystemExit(f"{path} has no '{WRITER_TABLE}' section with a '| date |' table; add it first")
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    rows = [
        f"| {date.today()} | {_machine()} | {r.source[0]}x{r.source[1]} | {r.level} | {r.threads} | {r.images} | "
        f"{r.rate:.2f} |\n"
        for r in results
    ]
    path.write_text("".join(lines[:end] + rows + lines[end:]), encoding="utf-8")


def writer_main(args: argparse.Namespace) -> None:
    print(f"PNG writer: {args.resolution} px images resized back to each source; {_machine()}")
    with tempfile.TemporaryDirectory(prefix="dalda-writer-bench-") as folder:
        results = bench_writer(WRITER_SOURCES, args.writer_threads, args.levels, args.writer_images, Path(folder))
    table = writer_table(results)
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths)))
    if args.record:
        record_writer(args.record, results)
        print(f"recorded in {args.record}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writer", action="store_true", help="benchmark the PNG writer instead (no models)")
    parser.add_argument("--writer-threads", type=int, nargs="+", default=[1, os.cpu_count() or 1])
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 6], help="PNG compression levels (--writer)")
    parser.add_argument("--writer-images", type=int, default=12, help="images per run at 512 px (--writer)")
    parser.add_argument("--profile", choices=["tiny", "full-random"], default="full-random")
    parser.add_argument("--resolution", type=int, help="default 512; with --generator: each generator's own")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--per-reference", type=int, default=10, help="M: images per reference image")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dtype", default="auto", choices=["auto", "float32", "float16", "bfloat16"])
    parser.add_argument("--scheduler", choices=["ddim", "dpm-solver++", "euler", "pndm"],
                        help="default: the generator's own (ddim; the img2img baselines: pndm)")
    parser.add_argument("--compare", default="ip-adapter", choices=generation_paths.GENERATOR_NAMES,
                        help="the generator whose engine is timed against its authors' loop (generation_paths.py)")
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--compile", action="store_true", help="torch.compile the engine's UNet")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds per path (best reported)")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--record", type=Path, help="append a result row to this markdown file (its table is last)")
    parser.add_argument(
        "--generator", nargs="+", choices=GENERATORS.names(),
        help="instead: per-generator cost (s/step, encode, decode, parameters) of each, side by side "
        "(benchmarks/generator_costs.py)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.writer:
        return writer_main(args)
    if args.threads:
        torch.set_num_threads(args.threads)
    args.resolution_given, args.resolution = args.resolution, args.resolution or 512
    if args.generator:
        generator_costs.compare(args)
        return

    config = generation_paths.bench_config(
        args.compare, args.profile, args.device, args.dtype, args.steps, args.resolution, args.scheduler
    )
    rows = generation_paths.bench_rows(args.compare, config, args.images, args.per_reference)
    refs = generation_paths.references(rows[-1][3] + 1)
    start = time.perf_counter()
    paths = generation_paths.build_paths(args.compare, config)
    size = paths.settings.resolution
    device = paths.device
    dtype = next(paths.stock.unet.parameters()).dtype
    print(f"models built in {time.perf_counter() - start:.1f} s ({args.compare}, {args.profile}, {device}, {dtype})")
    paths.channels_last(args.channels_last)
    paths.compile(args.compile)
    steps = paths.settings.steps

    paths.authors(rows[:1], refs, steps)  # warm-up, and the compilation of the first batch shape
    paths.batched(rows[: args.batch_size], refs, args.batch_size, steps)
    authors_rates, engine_rates = [], []
    for _ in range(args.repeats):
        authors_rates.append(generation_paths.timed(device, lambda: paths.authors(rows, refs, steps))[0])
        engine_rates.append(generation_paths.timed(device, lambda: paths.batched(rows, refs, args.batch_size, steps))[0])
        print(f"  round: authors {authors_rates[-1]:.3f} images/s, engine {engine_rates[-1]:.3f} images/s")
    authors_rate, engine_rate = max(authors_rates), max(engine_rates)
    ratio = engine_rate / authors_rate
    print(f"(a) authors' batch-1 loop: {authors_rate:.3f} images/s")
    print(f"(b) batched engine (batch {args.batch_size}): {engine_rate:.3f} images/s")
    print(f"ratio (b)/(a): {ratio:.2f}x")

    if args.record:
        if device.type == "cuda":
            hardware = torch.cuda.get_device_name(device)
        else:
            threads = torch.get_num_threads()
            hardware = f"CPU {platform.machine()}, {threads} thread{'s' if threads > 1 else ''}"
        chosen = (("channels_last", args.channels_last), ("compile", args.compile))
        options = ", ".join(name for name, on in chosen if on) or "-"
        row = (
            f"| {date.today()} | {hardware} | {args.profile} | {str(dtype).removeprefix('torch.')} | {size} | "
            f"{steps} {paths.settings.scheduler} | {args.batch_size} | {args.images} (M={args.per_reference}) | "
            f"{options} | "
            f"{authors_rate:.3f} | {engine_rate:.3f} | {ratio:.2f}x |\n"
        )
        with open(args.record, "a", encoding="utf-8") as handle:
            handle.write(row)
        print(f"recorded in {args.record}")


if __name__ == "__main__":
    main()

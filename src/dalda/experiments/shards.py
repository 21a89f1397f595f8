"""Splitting a grid over machines, and what a grid costs before it runs.

``--shard i/n`` (``i`` counts from 0, as ``$SLURM_ARRAY_TASK_ID`` does) runs the cells of shard ``i`` of a
partition that depends only on the grid: every process given the same grid and ``n`` computes the same
partition, so ``n`` processes share the grid with no overlap and no gap. Shards are balanced by an estimate of
each cell's work (:func:`cell_work`): cells are dealt, most expensive first, each to the shard with the least
work so far (ties: the lower shard), the classic longest-processing-time rule.

The estimate counts the work in units the benchmarks measure (``throughput.json`` beside this module, shipped
with the package):
denoising steps of generated images (scaled by pixels), textual-inversion steps, and images encoded by the
classifiers' frozen backbones. :func:`estimate_seconds` turns those counts into seconds with the recorded
throughput rows, which ``--dry-run`` prints as GPU-hours.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dalda.config import DaldaConfig
from dalda.datasets import DATASETS
from dalda.experiments.spec import Cell, ExperimentSpecError

if TYPE_CHECKING:
    from dalda.generators.settings import StableDiffusionSettings

THROUGHPUT_FILE = Path(__file__).with_name("throughput.json")
"""Recorded img/s rows, package data (``--throughput`` names another file)."""


def parse_shard(text: str) -> tuple[int, int]:
    """``"i/n"`` -> (i, n) with 0 <= i < n."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match or int(match[2]) < 1 or int(match[1]) >= int(match[2]):
        raise ExperimentSpecError(
            f"--shard {text!r} is not i/n with 0 <= i < n (i counts from 0, e.g. --shard 0/4 ... --shard 3/4)"
        )
    return int(match[1]), int(match[2])


def num_classes(config: DaldaConfig) -> int | None:
    """The dataset's class count: from its spec, else its image folder's subfolders, else None (unknown)."""
    spec = DATASETS.get(config.data.dataset)
    if spec.num_classes is not None:
        return spec.num_classes
    root = config.data.root
    if root is not None and Path(root).is_dir():
        return sum(1 for item in Path(root).iterdir() if item.is_dir() and not item.name.startswith("."))
    return None


@dataclass(frozen=True)
class CellWork:
    """What one cell computes (counts, not seconds)."""

    classes: int | None
    images: int
    """Synthetic images to generate."""
    denoise_steps: int
    pixels: int
    """Generation resolution squared."""
    ti_steps: int
    """Textual-inversion optimisation steps (DA-Fusion: per class)."""
    encoded_images: int
    """Training images (real and synthetic) encoded once per classifier."""
    llm_requests: int
    """Chat requests for this cell's prompts (0 when the prompts come from a template or are shared)."""

    @property
    def units(self) -> float:
        """One number to balance shards by: 512 px denoising steps, plus encodings counted as one step each."""
        return (self.images * self.denoise_steps + self.ti_steps) * self.pixels / 512**2 + self.encoded_images + 1


def cell_work(cell: Cell) -> CellWork:
    config = cell.config
    classes = num_classes(config)
    known = classes if classes is not None else 1
    real = config.data.shots * known
    generates = "generate" in cell.stages
    images = real * config.plan.images_per_real if generates else 0
    sampling, ti_steps = _generator_work(config)
    llm = "prompts" in cell.stages and config.prompts.source == "llm" and config.prompts.backend != "template"
    return CellWork(
        classes=classes,
        images=images,
        denoise_steps=sampling.steps,
        pixels=sampling.resolution**2,
        ti_steps=ti_steps * known if generates else 0,
        encoded_images=(real + images) * len(config.train.classifiers) if "train" in cell.stages else 0,
        llm_requests=known if llm else 0,
    )


def _generator_work(config: DaldaConfig) -> tuple[StableDiffusionSettings, int]:
    """The generator's sampler (its Stable Diffusion settings; DALDA's defaults stand in for a generator without
    them) and its textual-inversion steps per class (0 when it learns no tokens)."""
    from dalda.generators import generator_settings
    from dalda.generators.settings import StableDiffusionSettings, TextualInversionSettings

    settings = generator_settings(config)
    sampling = settings if isinstance(settings, StableDiffusionSettings) else StableDiffusionSettings()
    return sampling, settings.ti_steps if isinstance(settings, TextualInversionSettings) else 0


def partition(cells: list[Cell], shards: int) -> list[list[Cell]]:
    """``shards`` lists of cells (each in grid order): every cell in exactly one, balanced by work."""
    order = sorted(range(len(cells)), key=lambda i: (-cell_work(cells[i]).units, i))
    load = [0.0] * shards
    picked: list[list[int]] = [[] for _ in range(shards)]
    for i in order:
        target = min(range(shards), key=lambda s: (load[s], s))
        picked[target].append(i)
        load[target] += cell_work(cells[i]).units
    return [[cells[i] for i in sorted(indices)] for indices in picked]


def shard_of(cells: list[Cell], shard: tuple[int, int]) -> list[Cell]:
    index, count = shard
    return partition(cells, count)[index]


@dataclass(frozen=True)
class Throughput:
    """Recorded speeds: ``generate`` images/s at (resolution, steps), ``encode`` images/s at a size."""

    generate_images_per_s: float
    generate_resolution: int
    generate_steps: int
    encode_images_per_s: float
    encode_size: int
    hardware: str
    gpu: bool
    source: str


def load_throughput(path: Path = THROUGHPUT_FILE) -> Throughput:
    """The best GPU rows of ``path`` if it has any, else its CPU rows (then ``gpu`` is False)."""
    path = Path(path)
    if not path.is_file():
        raise ExperimentSpecError(f"throughput file {path} does not exist; pass --throughput with a recorded file")
    try:
        rows: list[dict[str, Any]] = json.loads(path.read_text())["rows"]
        for kind in ("generate", "encode"):
            if not any(row["kind"] == kind for row in rows):
                raise ValueError(f"no row with kind {kind!r}")
        gpu = any(row["device"] == "gpu" for row in rows)
        usable = [row for row in rows if (row["device"] == "gpu") == gpu]
        generate = max((r for r in usable if r["kind"] == "generate"), key=lambda r: r["images_per_s"])
        encode = max((r for r in usable if r["kind"] == "encode"), key=lambda r: r["images_per_s"])
        return Throughput(
            generate_images_per_s=float(generate["images_per_s"]),
            generate_resolution=int(generate["resolution"]),
            generate_steps=int(generate["steps"]),
            encode_images_per_s=float(encode["images_per_s"]),
            encode_size=int(encode["resolution"]),
            hardware=str(generate["hardware"]),
            gpu=gpu,
            source=str(path),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ExperimentSpecError(
            f"throughput file {path} is invalid ({error}); it needs rows with kind, device, hardware, "
            "resolution, steps (generate) and images_per_s"
        ) from None


def estimate_seconds(work: CellWork, config: DaldaConfig, speed: Throughput) -> float:
    """Seconds for one cell on the recorded hardware: generation and textual inversion scale with denoising
    steps x pixels, encoding with pixels; LLM calls, evaluation and model loading are not counted."""
    step_s = 1 / (speed.generate_images_per_s * speed.generate_steps * speed.generate_resolution**2)
    generate = (work.images * work.denoise_steps + work.ti_steps) * work.pixels * step_s
    encode = work.encoded_images * config.train.image_size**2 / (speed.encode_images_per_s * speed.encode_size**2)
    return generate + encode

"""One row of the generation plan, the real image it comes from, and reading/writing the plan file.

The plan is the contract between planning and generation: generation executes rows, sharding and resuming
work on ``row_id``, and an image depends only on its row (prompt, weight, seed), never on batch or order.
The planning stage describes each real training image as a :class:`SourceImage`; a generator turns those into
rows (``dalda.generators``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from dalda.io import read_jsonl, write_jsonl_atomic


@dataclass(frozen=True)
class SourceImage:
    """The fields every row made from one real training image shares."""

    class_name: str
    label: int
    source_path: str
    source_index: int
    """Index of the real image in the split's training list; groups the M images made from it."""
    clipscore: float | None
    group: str | None
    """"high" or "low": the image's CLIPScore group under threshold alpha; None when the run has no scores."""


@dataclass(frozen=True)
class PlanRow:
    row_id: int
    class_name: str
    label: int
    source_path: str
    source_index: int
    """Index of the real image in the split's training list; groups the M images made from it."""
    m: int
    """Which of the M images of this real image (0..M-1)."""
    prompt: str
    """The full text prompt fed to Stable Diffusion, prefix included."""
    ip_scale: float | None
    """The IP-Adapter image weight lambda for this image; None for the img2img baselines."""
    clipscore: float | None
    group: str | None
    """"high" or "low": the image's CLIPScore group under threshold alpha; None when the run has no scores."""
    seed: int
    """Seed of this image's own generator."""
    generator: str = "ip-adapter"
    """The ``generator.name`` that makes the image, e.g. "ip-adapter" (DALDA) or "real-guidance"."""
    strength: float | None = None
    """img2img strength for the baselines; None for IP-Adapter rows."""

    @property
    def file_stem(self) -> str:
        return f"{self.row_id:06d}"


def write_plan(path: Path, rows: list[PlanRow]) -> None:
    write_jsonl_atomic(path, (asdict(row) for row in rows))


def read_plan(path: Path) -> list[PlanRow]:
    if not Path(path).exists():
        raise FileNotFoundError(f"no plan at {path}; run `dalda plan` first")
    return [PlanRow(**row) for row in read_jsonl(path)]

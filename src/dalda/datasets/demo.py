"""A built-in dataset the package draws itself, so the whole pipeline runs offline on a CPU.

Five classes of procedurally drawn pictures whose names read well in prompts ("a photo of a circle"), 40 images
per class, 64x64 PNG. Every image comes from its own seeded numpy generator, so the files are byte-identical on
every build, and the classes differ in shape or texture so even a small classifier learns them. The files are
written once, each atomically, into ``<cache_dir>/demo/<class>/<nnn>.png`` (or ``data.root``); later calls reuse
them after checking that exactly the expected files are there. It has no paper figures (no HC/LC group).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from dalda.datasets.records import DatasetIndex, ImageRecord
from dalda.datasets.spec import DatasetSpec
from dalda.io import atomic_open
from dalda.settings import NoSettings

DEMO_CLASSES = ["circle", "square", "triangle", "stripes", "checkerboard"]
DEMO_IMAGES_PER_CLASS = 40
DEMO_SIZE = 64
_DEMO_SEED = 5141  # fixed: changing it changes every demo file


def _colours(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A background and a foreground colour far enough apart to see the pattern."""
    background = rng.integers(0, 256, size=3)
    while True:
        foreground = rng.integers(0, 256, size=3)
        if np.abs(foreground - background).sum() >= 240:
            return background.astype(np.float64), foreground.astype(np.float64)


def _mask(name: str, rng: np.random.Generator) -> np.ndarray:
    """Boolean foreground mask of one picture of class ``name`` with random position, size and angle."""
    y, x = np.mgrid[0:DEMO_SIZE, 0:DEMO_SIZE] + 0.5
    angle = rng.uniform(0.0, 2.0 * np.pi)
    if name == "circle":
        radius = rng.uniform(10, 24)
        cx, cy = rng.uniform(radius + 2, DEMO_SIZE - radius - 2, size=2)
        return (x - cx) ** 2 + (y - cy) ** 2 <= radius**2
    if name == "square":
        half = rng.uniform(9, 20)
        reach = half * np.sqrt(2.0)
        cx, cy = rng.uniform(reach + 1, DEMO_SIZE - reach - 1, size=2)
        u = (x - cx) * np.cos(angle) + (y - cy) * np.sin(angle)
        v = -(x - cx) * np.sin(angle) + (y - cy) * np.cos(angle)
        return np.maximum(np.abs(u), np.abs(v)) <= half
    if name == "triangle":
        # Equilateral: inside when within the inradius (half the circumradius) of every edge's normal.
        circumradius = rng.uniform(14, 28)
        cx, cy = rng.uniform(circumradius + 1, DEMO_SIZE - circumradius - 1, size=2)
        inside = np.ones_like(x, dtype=bool)
        for k in range(3):
            normal = angle + np.pi / 3 + 2 * np.pi * k / 3
            inside &= (x - cx) * np.cos(normal) + (y - cy) * np.sin(normal) <= circumradius / 2
        return inside
    if name == "stripes":
        period, phase = rng.uniform(6, 14), rng.uniform(0, 1)
        u = x * np.cos(angle) + y * np.sin(angle)
        return (u / period + phase) % 1.0 < 0.5
    if name == "checkerboard":
        cell = rng.uniform(5, 12)
        ox, oy = rng.uniform(0, cell, size=2)
        return (np.floor((x + ox) / cell) + np.floor((y + oy) / cell)) % 2 == 0
    raise ValueError(f"unknown demo class {name!r}; demo classes are {DEMO_CLASSES}")


def render_demo_image(class_index: int, image_index: int) -> np.ndarray:
    """The ``image_index``-th picture of ``DEMO_CLASSES[class_index]`` as a (64, 64, 3) uint8 array."""
    rng = np.random.default_rng([_DEMO_SEED, class_index, image_index])
    background, foreground = _colours(rng)
    mask = _mask(DEMO_CLASSES[class_index], rng)[..., None]
    picture = np.where(mask, foreground, background) + rng.normal(0.0, 8.0, size=(DEMO_SIZE, DEMO_SIZE, 3))
    return np.clip(np.rint(picture), 0, 255).astype(np.uint8)


def demo_path(folder: Path, class_index: int, image_index: int) -> Path:
    return Path(folder) / DEMO_CLASSES[class_index] / f"{image_index:03d}.png"


def _check_complete(folder: Path) -> None:
    """Exactly the demo's class folders and files: a folder holding anything else is not the demo."""
    present = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if present != sorted(DEMO_CLASSES):
        raise ValueError(
            f"demo folder {folder} holds class folders {present}, expected {sorted(DEMO_CLASSES)}; "
            "point data.root at an empty folder or delete this one to rebuild the demo"
        )
    for name in DEMO_CLASSES:
        count = sum(1 for p in (folder / name).iterdir() if p.suffix == ".png" and not p.name.startswith("."))
        if count != DEMO_IMAGES_PER_CLASS:
            raise ValueError(
                f"demo folder {folder / name} holds {count} PNG files, expected {DEMO_IMAGES_PER_CLASS}; "
                "delete the demo folder to rebuild it"
            )


def build_demo(folder: Path) -> Path:
    """Write any missing demo image into ``folder`` (each file atomically), check the set, return the folder."""
    folder = Path(folder).expanduser().resolve()
    for class_index in range(len(DEMO_CLASSES)):
        for image_index in range(DEMO_IMAGES_PER_CLASS):
            path = demo_path(folder, class_index, image_index)
            if path.exists():
                continue
            with atomic_open(path, "wb") as handle:
                Image.fromarray(render_demo_image(class_index, image_index)).save(handle, format="PNG")
    _check_complete(folder)
    return folder


def load_demo(root: Path | None, download: bool, cache_dir: Path, settings: NoSettings) -> DatasetIndex:
    """The demo dataset, drawn in ``root`` if set, else ``cache_dir/demo``; no test split (``download`` unused)."""
    folder = build_demo(Path(root) if root is not None else Path(cache_dir) / "demo")
    records = [
        ImageRecord(demo_path(folder, class_index, image_index), class_index)
        for class_index in range(len(DEMO_CLASSES))
        for image_index in range(DEMO_IMAGES_PER_CLASS)
    ]
    return DatasetIndex(name="demo", classes=list(DEMO_CLASSES), trainval=records, test=None)


DEMO = DatasetSpec(
    name="demo",
    title="Demo",
    # Ours, so the LLM backends can be tried on the demo too.
    description=(
        "A small synthetic dataset of procedurally drawn 64 x 64 pictures. Each picture shows one simple "
        "geometric shape or texture in two flat random colours, at a random position, size and angle."
    ),
    load=load_demo,
    licence="generated by dalda's demo dataset: same licence as dalda",
    num_classes=len(DEMO_CLASSES),
)

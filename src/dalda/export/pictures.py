"""The pixels an export holds: what dalda trained on, not the bytes of the source files.

A real image is decoded by :func:`dalda.images.load_rgb`, the decoder the data, generation and training stages
use (EXIF orientation applied, 16-bit and float scaled, alpha composited on white), and written as PNG, so
torchvision or ``datasets`` show the same upright 8-bit picture dalda trained with, where the raw file of a 16-bit
PNG reads as near-white and a phone photo lies sideways.

A synthetic image is copied as dalda wrote it, unless a side exceeds :data:`MAX_SYNTHETIC_SIDE`: then it is scaled
down to fit (Lanczos), since a picture larger than that was only upscaled from the generation size and its extra
pixels add megabytes and no information.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from PIL import Image

from dalda.images import load_rgb, pixel_size
from dalda.io import atomic_open

MAX_SYNTHETIC_SIDE = 1024
"""Longest side of an exported synthetic image, in pixels: the largest generation size of dalda's generators
(SDXL's 1024); smaller images are never enlarged."""


def _save_png(image: Image.Image, target: Path) -> None:
    with atomic_open(target, "wb") as writer:
        image.save(writer, format="PNG")


def export_real(source: Path, target: Path) -> None:
    """Write ``source`` as dalda decodes it for training, as a PNG at ``target``."""
    _save_png(load_rgb(source), target)


def export_synthetic(source: Path, target: Path) -> None:
    """Copy the synthetic image ``source`` to ``target``, scaled down if larger than :data:`MAX_SYNTHETIC_SIDE`."""
    if max(pixel_size(source)) > MAX_SYNTHETIC_SIDE:
        picture = load_rgb(source)
        picture.thumbnail((MAX_SYNTHETIC_SIDE, MAX_SYNTHETIC_SIDE), Image.Resampling.LANCZOS)
        _save_png(picture, target)
        return
    with open(source, "rb") as reader, atomic_open(target, "wb") as writer:
        shutil.copyfileobj(reader, writer)

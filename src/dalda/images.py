"""Reading any image file as 8-bit RGB, and skipping files that cannot be read.

Every stage (CLIPScore, IP-Adapter conditioning, classifier training) needs the same 3-channel picture of a real
image, whatever the file holds: greyscale, palette, alpha, CMYK, 16-bit or float. Converting in one place keeps
those stages agreeing (which is why this module sits at the base of the package, below every stage). Rules,
so the result is predictable:

- transparency (RGBA, LA, PA, or a palette / greyscale image with a ``transparency`` key) is composited onto
  white, instead of PIL's default of dropping alpha, which exposes whatever colour hides under transparent pixels;
- 16-bit greyscale (``I;16*``) maps its full range 0..65535 onto 0..255;
- 32-bit integer (``I``) keeps values already in 0..255, maps 0..65535 as 16-bit, and otherwise stretches
  min..max onto 0..255;
- float (``F``) in 0..1 is scaled by 255, values in 0..255 are kept, and anything else is stretched min..max;
- the EXIF orientation tag is applied, so phone photos stand upright;
- a file of more than :func:`max_pixels` pixels (default 178,956,970, Pillow's own decompression-bomb limit) is
  refused before it is decoded, naming its size; a user with larger real images raises the limit with the
  ``DALDA_MAX_IMAGE_PIXELS`` environment variable.

:func:`load_rgb` reads a file, :func:`to_rgb` converts an image already opened (the Python API's PIL inputs), by
the same rules: every path that turns a file into pixels (data stage, scoring, generation's reference images,
training, export, ``dalda.api``) goes through one of the two.

A file that cannot be decoded (truncated, empty, not an image, missing) raises :class:`UnreadableImageError`
naming the path; :func:`drop_unreadable` turns those into warnings so one bad file never stops a run.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Protocol, TypeVar

import numpy as np
from PIL import Image, ImageOps

logger = logging.getLogger(__name__)

class _OnDisk(Protocol):
    """Anything naming an image file (a dataset record, a split entry); this module stays below the datasets."""

    @property
    def path(self) -> Path: ...


R = TypeVar("R", bound=_OnDisk)

_ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}
_BACKGROUND = (255, 255, 255)


class UnreadableImageError(ValueError):
    """An image file could not be decoded; the message names the file and the reason."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"cannot read image {path}: {reason}")
        self.path = Path(path)


def _stretch(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    if high <= low:
        return np.zeros_like(values, dtype=np.float64)
    return (values - low) * (255.0 / (high - low))


def _wide_grey_to_l(image: Image.Image) -> Image.Image:
    """16-bit, 32-bit integer and float greyscale to 8-bit ``L`` (rules in the module docstring)."""
    values = np.asarray(image, dtype=np.float64)
    values = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
    low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
    if image.mode.startswith("I;16"):
        scaled = values / 257.0
    elif image.mode == "F" and low >= 0.0 and high <= 1.0:
        scaled = values * 255.0
    elif low >= 0.0 and high <= 255.0:
        scaled = values
    elif image.mode == "I" and low >= 0.0 and high <= 65535.0:
        scaled = values / 257.0
    else:
        scaled = _stretch(values)
    return Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype(np.uint8))


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode.startswith("I") or image.mode == "F":
        image = _wide_grey_to_l(image)
    if image.mode in _ALPHA_MODES or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, _BACKGROUND + (255,))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


MAX_PIXELS_VARIABLE = "DALDA_MAX_IMAGE_PIXELS"
_DEFAULT_MAX_PIXELS = 178_956_970


def max_pixels() -> int:
    """The most pixels an image may have (``DALDA_MAX_IMAGE_PIXELS``, else Pillow's decompression-bomb limit);
    Pillow's own limit is raised to match, so a user's larger limit is the one that applies."""
    raw = os.environ.get(MAX_PIXELS_VARIABLE, "").strip()
    try:
        limit = int(raw) if raw else _DEFAULT_MAX_PIXELS
    except ValueError:
        raise ValueError(f"{MAX_PIXELS_VARIABLE}={raw!r} must be a whole number of pixels, e.g. 250000000") from None
    if limit < 1:
        raise ValueError(f"{MAX_PIXELS_VARIABLE}={raw!r} must be a positive number of pixels")
    if Image.MAX_IMAGE_PIXELS is not None and limit > 2 * Image.MAX_IMAGE_PIXELS:
        Image.MAX_IMAGE_PIXELS = limit  # Pillow refuses at twice its value; dalda's check below comes first
    return limit


def _check_size(image: Image.Image, where: str, limit: int) -> None:
    width, height = image.size
    if width * height > limit:
        raise ValueError(
            f"{where} is {width}x{height} = {width * height:,} pixels, more than the {limit:,} allowed against "
            f"decompression bombs; set {MAX_PIXELS_VARIABLE}={width * height} to read it"
        )


def to_rgb(image: Image.Image) -> Image.Image:
    """``image`` (opened by anyone, e.g. a Python API caller) as the 8-bit RGB image dalda uses: upright, wide
    and palette modes converted, transparency on white, as :func:`load_rgb` reads files."""
    _check_size(image, "an image", max_pixels())
    image.load()
    return _to_rgb(ImageOps.exif_transpose(image))


def load_rgb(path: Path) -> Image.Image:
    """Decode ``path`` fully and return an 8-bit RGB image; raise :class:`UnreadableImageError` if it cannot."""
    path = Path(path)
    limit = max_pixels()  # before opening: Pillow checks its own limit there; a bad setting is no bad image
    try:
        with Image.open(path) as image:
            _check_size(image, "the image", limit)
            image.load()
            upright = ImageOps.exif_transpose(image)
            return _to_rgb(upright)
    except FileNotFoundError:
        raise UnreadableImageError(path, "file does not exist") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise UnreadableImageError(path, f"{type(error).__name__}: {error}") from None


def pixel_size(path: Path) -> tuple[int, int]:
    """(width, height) of the image file ``path`` from its header, without decoding its pixels (as stored, before
    any EXIF rotation); :class:`UnreadableImageError` when it is no image."""
    try:
        with Image.open(path) as image:
            return image.size
    except (OSError, SyntaxError, ValueError) as error:
        raise UnreadableImageError(Path(path), f"{type(error).__name__}: {error}") from None


def is_readable(path: Path) -> bool:
    """Whether ``path`` decodes; if not, log a warning naming it (to stderr through ``logging``)."""
    try:
        load_rgb(path)
    except UnreadableImageError as error:
        logger.warning("skipping unreadable image: %s", error)
        return False
    return True


def drop_unreadable(records: list[R]) -> list[R]:
    """Keep the records whose image decodes; warn about each file that does not, naming it, and skip it."""
    return [record for record in records if is_readable(record.path)]

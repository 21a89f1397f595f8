"""Every image mode reads as 8-bit RGB; unreadable files are warned about by path and skipped."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dalda.datasets import ImageRecord
from dalda.images import UnreadableImageError, drop_unreadable, load_rgb


def _rgb_array(path: Path) -> np.ndarray:
    image = load_rgb(path)
    assert image.mode == "RGB"
    array = np.asarray(image)
    assert array.shape == (image.height, image.width, 3) and array.dtype == np.uint8
    return array


def test_greyscale_and_cmyk_become_rgb(tmp_path: Path) -> None:
    Image.new("L", (6, 4), 90).save(tmp_path / "grey.png")
    Image.new("CMYK", (6, 4), (0, 255, 255, 0)).save(tmp_path / "cmyk.jpg", quality=100)
    assert (_rgb_array(tmp_path / "grey.png") == 90).all()
    red = _rgb_array(tmp_path / "cmyk.jpg")
    assert red[..., 0].min() > 200 and red[..., 1:].max() < 60


def test_transparent_pixels_become_white(tmp_path: Path) -> None:
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 2] = 200  # blue hidden under full transparency on the left half
    rgba[:, 2:, 3] = 255
    Image.fromarray(rgba).save(tmp_path / "rgba.png")
    Image.fromarray(rgba[..., [0, 3]]).save(tmp_path / "la.png")  # LA: grey 0, same alpha
    palette = Image.new("P", (4, 4), 0)
    palette.putpalette([10, 20, 30, 200, 0, 0] + [0] * 762)
    palette.paste(1, (2, 0, 4, 4))
    palette.save(tmp_path / "palette.png", transparency=0)
    with Image.open(tmp_path / "la.png") as written:
        assert written.mode == "LA"

    rgb = _rgb_array(tmp_path / "rgba.png")
    assert (rgb[:, :2] == 255).all() and (rgb[:, 2:] == [0, 0, 200]).all()
    grey = _rgb_array(tmp_path / "la.png")
    assert (grey[:, :2] == 255).all() and (grey[:, 2:] == 0).all()
    indexed = _rgb_array(tmp_path / "palette.png")
    assert (indexed[:, :2] == 255).all() and (indexed[:, 2:] == [200, 0, 0]).all()


def test_sixteen_bit_keeps_its_range_instead_of_clipping(tmp_path: Path) -> None:
    values = np.array([[0, 257 * 100, 65535]], dtype=np.uint16)
    Image.fromarray(values).save(tmp_path / "deep.png")
    with Image.open(tmp_path / "deep.png") as written:
        assert written.mode == "I;16"
    assert _rgb_array(tmp_path / "deep.png")[0, :, 0].tolist() == [0, 100, 255]


def test_float_and_wide_integer_images_are_scaled(tmp_path: Path) -> None:
    Image.fromarray(np.array([[0.0, 0.5, 1.0]], np.float32)).save(tmp_path / "unit.tif")
    Image.fromarray(np.array([[-5.0, 5.0]], np.float32)).save(tmp_path / "signed.tif")
    Image.fromarray(np.array([[0, 1_000_000]], np.int32)).save(tmp_path / "wide.tif")
    assert _rgb_array(tmp_path / "unit.tif")[0, :, 1].tolist() == [0, 128, 255]
    assert _rgb_array(tmp_path / "signed.tif")[0, :, 1].tolist() == [0, 255]
    assert _rgb_array(tmp_path / "wide.tif")[0, :, 2].tolist() == [0, 255]


def _bad_files(folder: Path) -> list[Path]:
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(buffer, "JPEG")
    truncated = folder / "truncated.jpg"
    truncated.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    empty = folder / "empty.jpg"
    empty.write_bytes(b"")
    text = folder / "notes.jpg"
    text.write_text("this is not a picture\n")
    return [truncated, empty, text, folder / "missing.jpg"]


def test_unreadable_error_names_the_file(tmp_path: Path) -> None:
    for path in _bad_files(tmp_path):
        with pytest.raises(UnreadableImageError, match=path.name) as caught:
            load_rgb(path)
        assert caught.value.path == path


def test_drop_unreadable_warns_per_file_and_keeps_the_good_ones(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good = tmp_path / "good.jpg"
    Image.new("RGB", (8, 8), (1, 2, 3)).save(good)
    bad = _bad_files(tmp_path)
    records = [ImageRecord(good, 0)] + [ImageRecord(path, 1) for path in bad]
    with caplog.at_level(logging.WARNING, logger="dalda.images"):
        kept = drop_unreadable(records)
    assert kept == [ImageRecord(good, 0)]
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == len(bad)
    for path in bad:
        assert any(str(path) in message for message in warnings)

"""Issue 25, item 5: one image decoder. The same odd files (16-bit, palette with transparency, hidden colour under
transparent pixels, EXIF-rotated, greyscale with alpha, CMYK) give the same pixels on every path that reads
them: the command line's stages (data stage, scoring, generation's references, training) and the Python API."""

from __future__ import annotations

import ast
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import dalda
from dalda.api import _save_inputs
from dalda.images import UnreadableImageError, load_rgb, to_rgb
from dalda.probes.transforms import square_resize
from dalda.rundir import RunDir
from dalda.training.pixel_store import build_pixel_store

SRC = Path(dalda.__file__).parent


def _odd_files(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    ramp = (np.arange(24 * 16).reshape(16, 24) * 170).astype(np.uint16)  # 0 .. 65110: 16-bit range
    files["16bit"] = folder / "wide.png"
    Image.fromarray(ramp).save(files["16bit"])
    hidden = np.zeros((16, 24, 4), np.uint8)
    hidden[..., 0] = 255  # red under fully transparent pixels
    hidden[:, 12:, 3] = 255
    hidden[:, 12:, 1] = 128
    files["hidden-colour"] = folder / "hidden.png"
    Image.fromarray(hidden, "RGBA").save(files["hidden-colour"])
    palette = Image.new("P", (24, 16), 1)
    palette.putpalette([0, 0, 0, 200, 30, 30] + [0] * 762)
    files["palette-transparency"] = folder / "palette.png"
    palette.save(files["palette-transparency"], transparency=1)
    exif = Image.Image().getexif()
    exif[0x0112] = 6  # rotate 90° clockwise to stand upright
    sideways = np.zeros((16, 24, 3), np.uint8)
    sideways[:, :12] = 250
    files["exif-rotated"] = folder / "rotated.jpg"
    Image.fromarray(sideways).save(files["exif-rotated"], exif=exif, quality=95)
    grey = np.stack([np.full((16, 24), 90, np.uint8), np.tile(np.arange(24, dtype=np.uint8) * 10, (16, 1))], -1)
    files["grey-alpha"] = folder / "la.png"
    Image.fromarray(grey, "LA").save(files["grey-alpha"])
    files["cmyk"] = folder / "cmyk.jpg"
    Image.new("CMYK", (24, 16), (0, 200, 200, 30)).save(files["cmyk"])
    return files


@pytest.fixture(scope="module")
def odd(tmp_path_factory) -> dict[str, Path]:
    return _odd_files(tmp_path_factory.mktemp("odd"))


def test_the_decoder_follows_its_rules(odd):
    assert np.asarray(load_rgb(odd["16bit"])).mean() == pytest.approx(126, abs=3)  # mid-grey, not white
    assert (np.asarray(load_rgb(odd["hidden-colour"]))[:, :12] == 255).all()  # white, not the hidden red
    assert (np.asarray(load_rgb(odd["palette-transparency"])) == 255).all()
    assert load_rgb(odd["exif-rotated"]).size == (16, 24)  # upright
    assert load_rgb(odd["cmyk"]).mode == "RGB"


@pytest.mark.parametrize("kind", ["16bit", "hidden-colour", "palette-transparency", "exif-rotated", "grey-alpha",
                                  "cmyk"])
def test_the_python_api_decodes_an_opened_image_as_the_command_line_decodes_its_file(odd, kind, tmp_path):
    run = RunDir(tmp_path / "run").ensure()
    with Image.open(odd[kind]) as opened:
        (record,) = _save_inputs(run, [opened], [0])
    assert np.array_equal(np.asarray(load_rgb(record.path)), np.asarray(load_rgb(odd[kind])))
    with Image.open(odd[kind]) as opened:
        assert np.array_equal(np.asarray(to_rgb(opened)), np.asarray(load_rgb(odd[kind])))


def test_training_decodes_the_same_pixels(odd, tmp_path):
    paths = list(odd.values())
    store = build_pixel_store(paths, 16, 1e9, tmp_path, workers=2)
    for row, path in enumerate(paths):
        expected = np.asarray(square_resize(load_rgb(path), 16)).transpose(2, 0, 1)
        assert np.array_equal(store.gather(np.array([row]))[0].numpy(), expected), path.name


def test_no_module_opens_an_image_for_its_pixels_outside_the_decoder():
    """Outside ``dalda/images.py``, ``Image.open`` only verifies dalda's own PNGs or reads a size; ``.convert("RGB")``
    only acts on images that are already decoded RGB (models' inputs, the generators' resize)."""
    allowed = {("generation/manifest.py", "image_is_readable"), ("report/gallery.py", "_reuse")}
    found = set()
    for path in SRC.rglob("*.py"):
        if path.name == "images.py" and path.parent == SRC:
            continue
        tree = ast.parse(path.read_text())
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef):
                continue
            for node in ast.walk(function):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "open"
                        and isinstance(node.func.value, ast.Name) and node.func.value.id == "Image"):
                    found.add((path.relative_to(SRC).as_posix(), function.name))
    assert found <= allowed, found - allowed


def test_a_decompression_bomb_is_refused_naming_its_size_and_the_way_to_allow_it(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    Image.new("L", (300, 200)).save(path)
    monkeypatch.setenv("DALDA_MAX_IMAGE_PIXELS", "50000")
    with pytest.raises(UnreadableImageError, match=r"300x200 = 60,000 pixels.*DALDA_MAX_IMAGE_PIXELS=60000"):
        load_rgb(path)
    with Image.open(path) as opened, pytest.raises(ValueError, match="DALDA_MAX_IMAGE_PIXELS"):
        to_rgb(opened)
    monkeypatch.setenv("DALDA_MAX_IMAGE_PIXELS", "60000")
    assert load_rgb(path).size == (300, 200)


def test_a_larger_limit_than_pillows_is_the_one_that_applies(tmp_path, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)  # Pillow would refuse above 20,000 pixels
    path = tmp_path / "big.png"
    encoded = io.BytesIO()
    Image.new("L", (300, 200)).save(encoded, format="PNG")
    path.write_bytes(encoded.getvalue())
    monkeypatch.setenv("DALDA_MAX_IMAGE_PIXELS", "100000")
    assert load_rgb(path).size == (300, 200)

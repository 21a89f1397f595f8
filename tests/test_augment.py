"""The on-device flip + rotation of train.protocol=authors (dalda.probes.augment) against the authors' transforms.

Two kinds of evidence: bit-for-bit equality with torchvision's functional ops on tensors for given flips and
angles, and two-sample tests showing that many augmented draws of the same images have the same distribution of
per-image statistics as torchvision's RandomHorizontalFlip + RandomRotation(15) on PIL images (what the authors'
transform runs), with negative controls showing that the same tests do catch a slightly different augmentation.
"""

import functools

import numpy as np
import pytest
import torch
from PIL import Image
from scipy.stats import ks_2samp
from torchvision import transforms as T
from torchvision.transforms import InterpolationMode
from torchvision.transforms import functional as TF

from dalda.probes.augment import ROTATION_DEGREES, DeviceFlipRotate, FlipRotateDraws, flip_rotate, normalise
from dalda.probes.transforms import AUTHORS_MEAN, AUTHORS_STD, ImageTransform


@pytest.mark.parametrize("height, width", [(32, 32), (37, 29), (224, 224)])
def test_each_image_equals_torchvision_hflip_then_rotate_of_its_tensor(height, width):
    generator = torch.Generator().manual_seed(height * width)
    pixels = torch.randint(0, 256, (8, 3, height, width), dtype=torch.uint8, generator=generator)
    flips = np.array([False, True, False, True, True, False, False, True])
    angles = [0.0, 15.0, -15.0, 7.3, -0.4, 11.9999, -3.25, 14.5]
    augmented = flip_rotate(pixels, flips, angles)
    for image, flip, angle, got in zip(pixels, flips, angles, augmented):
        expected = TF.rotate(TF.hflip(image) if flip else image, angle, InterpolationMode.NEAREST, fill=0)
        assert torch.equal(got, expected.float()), f"flip={flip}, angle={angle}"


def test_normalised_pixels_equal_to_tensor_and_normalize_bit_for_bit():
    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 256, (24, 24, 3), dtype=np.uint8))
    expected = TF.normalize(TF.to_tensor(image), AUTHORS_MEAN, AUTHORS_STD)
    got = normalise(TF.pil_to_tensor(image), AUTHORS_MEAN, AUTHORS_STD)
    assert got.dtype == torch.float32 and torch.equal(got, expected)


def test_batched_draws_consume_the_generator_as_draws_one_at_a_time():
    batched = FlipRotateDraws(11)
    flips, angles = batched.draw(5)
    more_flips, more_angles = batched.draw(3)
    rng = np.random.default_rng([11, 15])
    one_at_a_time = [(rng.random() < 0.5, rng.uniform(-ROTATION_DEGREES, ROTATION_DEGREES)) for _ in range(8)]
    assert list(np.concatenate([flips, more_flips])) == [flip for flip, _ in one_at_a_time]
    assert list(np.concatenate([angles, more_angles])) == [angle for _, angle in one_at_a_time]


# ---- distribution: many draws of the same images, dalda's augmentation against the authors' transforms ----

SIZE = 40
DRAWS = 2000


def _test_images() -> list[Image.Image]:
    """Asymmetric pictures with no black pixel (so black means rotation fill): a bar tilted 20 degrees with a
    blob at one end, and a noisy picture brighter on one side."""
    y, x = np.mgrid[0:SIZE, 0:SIZE] + 0.5
    angle = np.radians(20.0)
    along = (x - SIZE / 2) * np.cos(angle) - (y - SIZE / 2) * np.sin(angle)
    across = (x - SIZE / 2) * np.sin(angle) + (y - SIZE / 2) * np.cos(angle)
    bar = (np.abs(across) < 3) & (np.abs(along) < 15) | ((x - 30) ** 2 + (y - 12) ** 2 < 20)
    first = np.where(bar[..., None], [230, 200, 40], [30, 60, 90]).astype(np.uint8)
    rng = np.random.default_rng(3)
    ramp = np.linspace(40, 220, SIZE)[None, :, None] + rng.normal(0, 15, (SIZE, SIZE, 3))
    second = np.clip(ramp, 10, 255).astype(np.uint8)
    return [Image.fromarray(first), Image.fromarray(second)]


def _statistics(images: torch.Tensor) -> dict[str, np.ndarray]:
    """Per-image numbers that flips and rotations move: the share of rotation fill (grows with |angle|), the
    horizontal centre of brightness (moves with the flip), and the orientation of the bright pixels' second
    moments (turns with the signed angle, mirrored by the flip)."""
    images = images.double()
    brightness = images.mean(dim=1)  # (N, H, W)
    fill = (images.sum(dim=1) == 0).double().mean(dim=(1, 2))
    y, x = torch.meshgrid(torch.arange(SIZE, dtype=torch.float64), torch.arange(SIZE, dtype=torch.float64), indexing="ij")
    mass = brightness.sum(dim=(1, 2))
    cx = (brightness * x).sum(dim=(1, 2)) / mass
    cy = (brightness * y).sum(dim=(1, 2)) / mass
    dx, dy = x - cx[:, None, None], y - cy[:, None, None]
    mu20 = (brightness * dx * dx).sum(dim=(1, 2))
    mu02 = (brightness * dy * dy).sum(dim=(1, 2))
    mu11 = (brightness * dx * dy).sum(dim=(1, 2))
    orientation = 0.5 * torch.atan2(2 * mu11, mu20 - mu02)
    return {"fill": fill.numpy(), "centre_x": cx.numpy(), "orientation": orientation.numpy()}


@functools.cache
def _authors_draws(which: int) -> torch.Tensor:
    """The authors' transform after the resize: RandomHorizontalFlip + RandomRotation(15) on the PIL image."""
    torch.manual_seed(0)
    augment = T.Compose([T.RandomHorizontalFlip(), T.RandomRotation(ROTATION_DEGREES)])
    image = _test_images()[which]
    return torch.stack([TF.pil_to_tensor(augment(image)) for _ in range(DRAWS)])


def _dalda_draws(image: Image.Image, degrees: float = ROTATION_DEGREES, flip: float = 0.5) -> torch.Tensor:
    """dalda's augmentation of the same image, in batches of 32 as training draws it."""
    draws, rng = FlipRotateDraws(1), np.random.default_rng(1)
    pixels = TF.pil_to_tensor(image)
    batches = []
    for start in range(0, DRAWS, 32):
        count = min(32, DRAWS - start)
        flips, angles = draws.draw(count)
        if (degrees, flip) != (ROTATION_DEGREES, 0.5):  # a deliberately wrong augmentation (negative controls)
            flips, angles = rng.random(count) < flip, rng.uniform(-degrees, degrees, count)
        batches.append(flip_rotate(pixels.expand(count, -1, -1, -1), flips, angles.tolist()))
    return torch.cat(batches)


def _p_values(first: torch.Tensor, second: torch.Tensor) -> dict[str, float]:
    a, b = _statistics(first), _statistics(second)
    return {name: float(ks_2samp(a[name], b[name]).pvalue) for name in a}


@pytest.mark.parametrize("which", [0, 1])
def test_augmentation_has_the_distribution_of_the_authors_transforms(which):
    p_values = _p_values(_authors_draws(which), _dalda_draws(_test_images()[which]))
    assert min(p_values.values()) > 0.01, p_values


@pytest.mark.parametrize("degrees, flip, caught_by", [(12.0, 0.5, "fill"), (15.0, 0.4, "centre_x")])
def test_the_same_test_catches_a_slightly_different_augmentation(degrees, flip, caught_by):
    p_values = _p_values(_authors_draws(0), _dalda_draws(_test_images()[0], degrees, flip))
    assert p_values[caught_by] < 1e-6, p_values


def test_device_flip_rotate_returns_normalised_images_on_the_device():
    transform = ImageTransform(16, AUTHORS_MEAN, AUTHORS_STD)
    augment = DeviceFlipRotate(transform, seed=0, device=torch.device("cpu"))
    pixels = torch.full((4, 3, 16, 16), 255, dtype=torch.uint8)
    out = augment(pixels)
    assert out.dtype == torch.float32 and out.shape == (4, 3, 16, 16)
    assert out.max() == 1.0 and out.min() >= -1.0  # 255 -> 1, rotation fill 0 -> -1 under mean = std = 0.5

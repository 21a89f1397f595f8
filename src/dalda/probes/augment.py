"""The authors' training augmentation, applied to whole batches on the training device (``train.protocol=authors``).

The authors' training transform, per image, is Resize((S, S)) -> RandomHorizontalFlip(0.5) -> RandomRotation(15)
(nearest neighbour, corners filled with 0) -> ToTensor -> Normalize. dalda resizes each image once (the pixel
store of ``dalda.training.pixel_store`` holds the resized uint8 pixels) and does the rest here, to a batch of
uint8 images already on the device: one flip decision and one angle per image, one sampling grid for the batch,
one ``grid_sample`` call, then the normalisation.

Same operations, same numbers:

- for a given flip and angle, each image is exactly torchvision's functional ``hflip`` then ``rotate`` (nearest,
  fill 0) of its tensor: the same inverse rotation matrix, the same sampling grid and the same ``grid_sample``
  call, built for all images at once (``tests/test_augment.py`` checks equality bit for bit);
- the parameters follow the authors' distributions (flip with probability 1/2, angle uniform in [-15, 15] degrees,
  independent per image) from a private seeded generator (:class:`FlipRotateDraws`), never global state;
- torchvision's PIL rotation, which the authors' transform runs on PIL images, rounds sample positions differently
  at about 0.1% of the pixels; ``tests/test_augment.py`` shows with two-sample tests on many draws that the
  per-image statistics of both augmentations have the same distribution.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch.nn import functional as F

from dalda.probes.transforms import ImageTransform

ROTATION_DEGREES = 15.0
FLIP_PROBABILITY = 0.5


class FlipRotateDraws:
    """Seeded flip decisions and rotation angles, one pair per training draw, in draw order.

    Per draw: a uniform number decides the flip (below 0.5 flips), a second one gives the angle in
    [-15, 15] degrees; a batch of B draws consumes the generator exactly as B draws one at a time would.
    """

    def __init__(self, seed: int) -> None:
        self._rng = np.random.default_rng([seed, 15])

    def draw(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """(flips: bool (count,), angles in degrees: float64 (count,))."""
        uniforms = self._rng.random((count, 2))
        return uniforms[:, 0] < FLIP_PROBABILITY, -ROTATION_DEGREES + 2 * ROTATION_DEGREES * uniforms[:, 1]


def _base_grid(height: int, width: int, device: torch.device) -> torch.Tensor:
    """(1, H*W, 3) pixel-centre coordinates relative to the image centre plus a column of ones, as torchvision
    builds them for ``rotate``."""
    grid = torch.empty(1, height, width, 3, dtype=torch.float32, device=device)
    columns = torch.linspace(-width * 0.5 + 0.5, width * 0.5 - 0.5, steps=width, dtype=torch.float32, device=device)
    rows = torch.linspace(-height * 0.5 + 0.5, height * 0.5 - 0.5, steps=height, dtype=torch.float32, device=device)
    grid[..., 0].copy_(columns)
    grid[..., 1].copy_(rows.unsqueeze(-1))
    grid[..., 2].fill_(1)
    return grid.view(1, height * width, 3)


def rotation_grid(angles: Sequence[float], height: int, width: int, device: torch.device) -> torch.Tensor:
    """(B, H, W, 2) ``grid_sample`` grid rotating image b by ``angles[b]`` degrees counter-clockwise about its
    centre (torchvision's ``rotate`` convention).

    Each inverse matrix is computed in double precision with ``math`` as torchvision's
    ``_get_inverse_affine_matrix`` computes it for a pure rotation, then cast to float32, so the grid of every
    image equals the one torchvision builds for that image alone.
    """
    matrices = []
    for angle in angles:
        radians = math.radians(-float(angle))
        cos, sin = math.cos(radians), math.sin(radians)
        matrices.append([[cos, sin, 0.0], [-sin, cos, 0.0]])
    theta = torch.tensor(matrices, dtype=torch.float32, device=device)
    scale = torch.tensor([0.5 * width, 0.5 * height], dtype=torch.float32, device=device)
    rescaled = theta.transpose(1, 2) / scale
    base = _base_grid(height, width, device)
    return base.expand(len(matrices), -1, -1).bmm(rescaled).view(len(matrices), height, width, 2)


def flip_rotate(pixels: torch.Tensor, flips: np.ndarray, angles: Sequence[float]) -> torch.Tensor:
    """(B, 3, H, W) images (uint8 or float, 0..255) -> float32 (B, 3, H, W), 0..255: image b mirrored left-right
    where ``flips[b]``, then rotated by ``angles[b]`` degrees (nearest neighbour, outside filled with 0)."""
    mirrored = torch.as_tensor(np.asarray(flips, dtype=bool), device=pixels.device).view(-1, 1, 1, 1)
    images = torch.where(mirrored, pixels.flip(-1), pixels).float()  # flipped before the cast: fewer bytes
    grid = rotation_grid(angles, images.shape[-2], images.shape[-1], images.device)
    return F.grid_sample(images, grid, mode="nearest", padding_mode="zeros", align_corners=False)


def normalise(pixels: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """0..255 images (uint8 or float) -> float32 ``(x / 255 - mean) / std`` per channel, with the very operations
    of torchvision's ``to_tensor`` and ``normalize`` (so the values are theirs bit for bit)."""
    device = pixels.device
    scaled = pixels.to(torch.float32).div(255)
    mean_t = torch.tensor(mean, dtype=torch.float32, device=device).view(-1, 1, 1)
    std_t = torch.tensor(std, dtype=torch.float32, device=device).view(-1, 1, 1)
    return scaled.sub_(mean_t).div_(std_t)


class DeviceFlipRotate:
    """The authors' augmentation of a batch: uint8 (B, 3, S, S) resized images -> normalised float32 on ``device``,
    each flipped and rotated with its own freshly drawn parameters (``FlipRotateDraws(seed)``)."""

    def __init__(self, transform: ImageTransform, seed: int, device: torch.device) -> None:
        self.transform = transform
        self.device = torch.device(device)
        self.draws = FlipRotateDraws(seed)

    def __call__(self, pixels: torch.Tensor) -> torch.Tensor:
        flips, angles = self.draws.draw(len(pixels))
        augmented = flip_rotate(pixels.to(self.device, non_blocking=True), flips, angles.tolist())
        return normalise(augmented, self.transform.mean, self.transform.std)

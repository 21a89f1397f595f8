"""Image -> normalised tensor for the classifiers, with deterministic augmented views.

The authors resize every image to 224 x 224 and normalise with mean = std = 0.5 for both classifiers
(their training code); ``train.normalization=backbone`` uses each backbone's own statistics instead (ImageNet
for ResNet50, CLIP's for CLIP), which is what the pretrained weights expect.

Augmented views (``train.augmented_views`` > 0) are a random resized crop plus a horizontal flip. View ``v`` of an
image is a pure function of (seed, image content, v): its random parameters come from a private generator seeded
by those three, never from global state. That is what lets the feature cache encode each view once and the
encode-every-batch trainer recreate the very same pixels later.

``train.protocol=authors`` instead flips and rotates every training draw afresh, after the same square resize
(:func:`square_resize`), on whole batches on the training device (``augment.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image
from torchvision.transforms import InterpolationMode, RandomResizedCrop
from torchvision.transforms import functional as TF

AUTHORS_MEAN = (0.5, 0.5, 0.5)
AUTHORS_STD = (0.5, 0.5, 0.5)
CROP_SCALE = (0.5, 1.0)
"""Area range of the random crop; narrower than torchvision's (0.08, 1) so a crop of a few-shot image keeps the
object."""
CROP_RATIO = (3 / 4, 4 / 3)
PLAIN_VIEW = 0
"""View 0 is the un-augmented image (resize only); augmented views are 1..K."""


def square_resize(image: Image.Image, size: int) -> Image.Image:
    """The plain view's pixels before normalisation: a bilinear (antialiased) resize of the RGB image to
    ``size`` x ``size``, 8 bits per channel, as the authors' ``Resize((S, S))``. The pixel store
    (``train.protocol=authors``) keeps exactly these."""
    return TF.resize(image, [size, size], interpolation=InterpolationMode.BILINEAR)


class ImageTransform:
    """Resize (square, as the authors do) and normalise; views > 0 add a seeded random resized crop + flip."""

    def __init__(
        self, image_size: int, mean: Sequence[float], std: Sequence[float], augmented_views: int = 0, seed: int = 0
    ) -> None:
        self.image_size = image_size
        self.mean = tuple(float(x) for x in mean)
        self.std = tuple(float(x) for x in std)
        self.augmented_views = augmented_views
        self.seed = seed

    @property
    def training_views(self) -> list[int]:
        """Views a training draw chooses from: the plain image, or K augmented views when augmentation is on."""
        return [PLAIN_VIEW] if self.augmented_views == 0 else list(range(1, self.augmented_views + 1))

    def describe(self) -> dict[str, object]:
        return {
            "image_size": self.image_size,
            "mean": list(self.mean),
            "std": list(self.std),
            "augmented_views": self.augmented_views,
            "crop_scale": list(CROP_SCALE),
            "seed": self.seed,
        }

    def view_key(self, view: int) -> str:
        """Cache-key suffix of a view; augmented views depend on the seed, the plain view does not."""
        return f"v{view}" if view == PLAIN_VIEW else f"v{view}s{self.seed}"

    def __call__(self, image: Image.Image, view: int, digest: str) -> torch.Tensor:
        """(3, S, S) float32 tensor of ``view`` of ``image``; ``digest`` (its sha256 hex) seeds the view."""
        size = [self.image_size, self.image_size]
        if view == PLAIN_VIEW:
            image = square_resize(image, self.image_size)
        else:
            top, left, height, width, flip = self._view_params(image, view, digest)
            image = TF.resized_crop(image, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR)
            if flip:
                image = TF.hflip(image)
        return TF.normalize(TF.to_tensor(image), self.mean, self.std)

    def _view_params(self, image: Image.Image, view: int, digest: str) -> tuple[int, int, int, int, bool]:
        entropy = [self.seed, int(digest[:15], 16), view]
        view_seed = int(np.random.SeedSequence(entropy).generate_state(1)[0])
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(view_seed)
            top, left, height, width = RandomResizedCrop.get_params(image, list(CROP_SCALE), list(CROP_RATIO))
            flip = bool(torch.rand(1).item() < 0.5)
        return top, left, height, width, flip

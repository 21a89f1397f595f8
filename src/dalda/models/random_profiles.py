"""What the random-weight profiles (``models.profile=tiny`` and ``full-random``) share across model families.

Each family module keeps its own table of shapes per random profile (``SHAPES``) and its own seeds; these two
helpers read a shape from such a table and build a part under its seed. A part built under :func:`seeded` has
the same weights whatever was built before it, and the caller's random state is left untouched. The vision
towers (CLIP, SigLIP, BLIP VQA, DINO) get patch embeddings that see colour, brightness and texture
(:func:`init_sighted_patch_embedding`), so random-weight scores and features differ between images as real ones do.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TypeVar

import torch

Shape = TypeVar("Shape")


def shape_for(table: Mapping[str, Shape], profile: str, what: str) -> Shape:
    """``table[profile]``, or a clear error naming the profile and the model it lacks."""
    if profile not in table:
        raise ValueError(f"models.profile={profile!r} defines no {what}; use models.profile=tiny, full-random or real")
    return table[profile]


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run the body with torch's CPU generator seeded with ``seed``, restoring the outer state afterwards.

    Only the CPU generator is touched (models are initialised on the CPU), so CUDA random state is untouched.
    """
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(seed)
        yield


def init_sighted_patch_embedding(conv: torch.nn.Conv2d) -> None:
    """Give a vision transformer's patch embedding filters that respond to what an image shows.

    Transformers' own initialisation can leave a random vision tower blind: BLIP's vision config initialises its
    patch embedding with std 1e-10, so the tiny BLIP VQA answered a black, a white and a noise image alike and no
    test on it could catch a broken image path. The first filters here read a patch's mean red, green and blue,
    its brightness, and three texture patterns (horizontal and vertical edges, a checkerboard, which see noise and
    not flat colour); the rest are random with a gain that keeps the input's scale. Call it under :func:`seeded`
    so the random filters are the same on every build; the bias is zeroed so a flat grey patch maps to zero.
    """
    out_channels, in_channels, height, width = conv.weight.shape
    area = height * width
    rows = torch.arange(height).view(height, 1).expand(height, width)
    cols = torch.arange(width).view(1, width).expand(height, width)
    texture = [
        torch.where(cols < width // 2, 1.0, -1.0),
        torch.where(rows < height // 2, 1.0, -1.0),
        torch.where((rows + cols) % 2 == 0, 1.0, -1.0),
    ]
    designed = []
    for channel in range(in_channels):
        colour = torch.zeros(in_channels, height, width)
        colour[channel] = 1.0 / area
        designed.append(colour)
    designed.append(torch.full((in_channels, height, width), 1.0 / (in_channels * area)))
    designed += [pattern.expand(in_channels, height, width) / (in_channels * area) ** 0.5 for pattern in texture]
    weight = torch.randn(out_channels, in_channels, height, width) / (in_channels * area) ** 0.5
    count = min(len(designed), out_channels)
    weight[:count] = torch.stack(designed[:count])
    with torch.no_grad():
        conv.weight.copy_(weight.to(conv.weight.dtype))
        if conv.bias is not None:
            conv.bias.zero_()

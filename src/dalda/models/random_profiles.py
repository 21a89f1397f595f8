"""What the random-weight profiles (``models.profile=tiny`` and ``full-random``) share across model families.

Each family module keeps its own table of shapes per random profile (``SHAPES``) and its own seeds; these two
helpers read a shape from such a table and build a part under its seed. A part built under :func:`seeded` has
the same weights whatever was built before it, and the caller's random state is left untouched.
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

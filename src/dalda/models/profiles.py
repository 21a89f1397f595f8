"""The random-weight profiles by name (``models.profile``): which architecture each one builds.

A new random profile is one module defining a :class:`~dalda.models.architectures.RandomArchitecture` plus one
``PROFILES.register`` line here.
"""

from __future__ import annotations

from dalda.models.architectures import RandomArchitecture
from dalda.models.full_random import FULL_RANDOM
from dalda.models.tiny import TINY
from dalda.registry import Registry

PROFILES: Registry[RandomArchitecture] = Registry("random architecture", setting="models.profile")
PROFILES.register("tiny", TINY)
PROFILES.register("full-random", FULL_RANDOM)

"""Experiment tracker backends by name (``tracking.backend``): where a run's numbers go besides its own files.

``none`` (the default) writes nothing; ``tensorboard``, ``wandb`` and ``mlflow`` write through their libraries
(the ``tracking`` extra). ``dalda.tracking`` decides what every backend is sent; a backend is one module
answering :meth:`TrackerBackend.open` plus one ``TRACKERS.register`` call, or an entry point in the
``dalda.trackers`` group of an installed package (``docs/extending.md``).
"""

from dalda.registry import Registry
from dalda.trackers.mlflow import MLFLOW
from dalda.trackers.off import NONE
from dalda.trackers.spec import TrackerBackend, TrackerPlace, TrackerWriter
from dalda.trackers.tensorboard import TENSORBOARD
from dalda.trackers.wandb import WANDB

TRACKERS = Registry[TrackerBackend]("experiment tracker", setting="tracking.backend", group="dalda.trackers")
for _backend in (NONE, TENSORBOARD, WANDB, MLFLOW):
    TRACKERS.register(_backend.name, _backend)

__all__ = ["TRACKERS", "TrackerBackend", "TrackerPlace", "TrackerWriter"]

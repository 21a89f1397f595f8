"""Splitting generation between processes launched by ``accelerate launch`` or ``torchrun``.

Every process reads the same consolidated manifest, so all agree on the pending rows; process ``k`` of ``n``
takes the ``k``-th contiguous slice of them (sizes differ by at most one). Slices keep the rows of one
reference image together, so each process encodes few reference images. Because an image depends only on
its row, which process makes it changes nothing. A plain ``python``/``dalda`` run is one process.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
from accelerate import PartialState
from accelerate.utils import gather_object, parse_flag_from_env

from dalda.config import ModelsConfig

logger = logging.getLogger(__name__)

T = TypeVar("T")


def shard(items: Sequence[T], index: int, count: int) -> list[T]:
    """The ``index``-th of ``count`` contiguous, non-overlapping slices that together cover ``items``."""
    if not 0 <= index < count:
        raise ValueError(f"process index {index} is outside 0..{count - 1}")
    start = len(items) * index // count
    stop = len(items) * (index + 1) // count
    return list(items[start:stop])


@dataclass
class Processes:
    """This process's place among the launched ones, and the two collective steps generation needs."""

    state: PartialState

    @classmethod
    def current(cls, cpu: bool = False) -> Processes:
        """The launcher's process group. CPU processes (``cpu``, ``accelerate launch --cpu``, or no CUDA) join
        with gloo; accelerate only does that when told they are CPU processes, even under torchrun."""
        cpu = cpu or parse_flag_from_env("ACCELERATE_USE_CPU") or not torch.cuda.is_available()
        return cls(PartialState(cpu=cpu))

    @property
    def index(self) -> int:
        return self.state.process_index

    @property
    def count(self) -> int:
        return self.state.num_processes

    @property
    def is_main(self) -> bool:
        return self.state.is_main_process

    def wait(self) -> None:
        self.state.wait_for_everyone()

    def gather(self, items: list[Any]) -> list[Any]:
        """Every process's ``items`` concatenated in process order (the list itself when alone)."""
        return gather_object(items) if self.count > 1 else list(items)

    def models_config(self, models: ModelsConfig) -> ModelsConfig:
        """``models`` with this process's device: with ``models.device=auto``, a launched process uses the device
        the launcher gave it (its own GPU, or the CPU under ``--cpu``), not GPU 0 for everyone."""
        device: torch.device = self.state.device
        if models.device == "auto" and (self.count > 1 or device.type == "cpu"):
            return models.model_copy(update={"device": str(device)})
        if self.count > 1 and models.device.startswith("cuda"):
            logger.warning(
                "models.device=%s is fixed, so all %d processes use that one device; "
                "set models.device=auto to give each process its own GPU",
                models.device,
                self.count,
            )
        return models

"""``results/<classifier>_head.pt``: a trained classifier's head (and fine-tuned backbone) plus its record.

The file holds plain tensors and JSON-like values only, so it loads with ``torch.load(weights_only=True)``. It is
no JSON file, so it does not stand on :mod:`dalda.artefacts.record`; like every record it writes atomically and
raises :class:`MissingArtefactError` when it is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dalda.artefacts.errors import MissingArtefactError
from dalda.artefacts.training import TrainingRecord
from dalda.io import atomic_open

if TYPE_CHECKING:
    import torch

FORMAT_VERSION = 1


@dataclass(frozen=True)
class Checkpoint:
    classifier: str
    classes: list[str]
    feature_dim: int
    backbone_identity: str
    """The backbone the head was trained on; evaluation refuses a different one."""
    head: dict[str, torch.Tensor]
    record: TrainingRecord
    """How the head was trained (also in ``<classifier>_train.json``); the results file repeats it."""
    backbone: dict[str, torch.Tensor] | None = None
    """The fine-tuned backbone's weights (or, frozen, BatchNorm buffers that drifted); None when unchanged."""

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "classifier": self.classifier,
            "classes": list(self.classes),
            "feature_dim": self.feature_dim,
            "backbone_identity": self.backbone_identity,
            "head": self.head,
            "record": self.record.to_json(),
        }
        if self.backbone is not None:
            payload["backbone"] = self.backbone
        return payload

    def write(self, path: Path) -> None:
        with atomic_open(Path(path), "wb") as handle:
            import torch  # here, not at import: reading a run's other records never needs torch

            torch.save(self.to_payload(), handle)

    @classmethod
    def read(cls, path: Path) -> Checkpoint:
        path = Path(path)
        if not path.is_file():
            raise MissingArtefactError("trained classifier", path, "train")
        import torch

        payload = torch.load(path, map_location="cpu", weights_only=True)
        if payload.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"{path} was written by another dalda version; run `dalda train` again")
        return cls(
            classifier=payload["classifier"],
            classes=payload["classes"],
            feature_dim=payload["feature_dim"],
            backbone_identity=payload["backbone_identity"],
            head=payload["head"],
            record=TrainingRecord.from_json(payload["record"], f"the training record in {path}"),
            backbone=payload.get("backbone"),
        )

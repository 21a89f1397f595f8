"""The two training/evaluation protocols of ``train.protocol``, as data every stage reads (docs/protocol.md).

- ``authors``: the probes as the authors' code trains them. The backbone runs in ``train()`` mode while the head
  fits (BatchNorm normalises with batch statistics and its running statistics drift toward the real+synthetic
  stream), every draw is flipped and rotated afresh, so nothing can be cached and every batch is encoded; the
  head is evaluated after every epoch on ``train.eval_draws`` evaluation images drawn with replacement, and the
  best epoch on that evaluation split is reported beside the final one (selection on the evaluation data).
- ``fast``: eval-mode backbones whose features are cached once (optionally with augmented views), the final
  epoch only, scored on every evaluation image once.

Both store per-class, macro and micro accuracy for every evaluated epoch; the headline ``accuracy`` of a results
file is the final epoch's macro accuracy under ``authors`` (the paper's number) and its micro accuracy under
``fast`` (today's number), named in ``accuracy_metric``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrainingProtocol:
    name: str
    backbone_train_mode: bool
    """Run the frozen backbone in ``train()`` mode while fitting (BatchNorm batch statistics, drifting buffers)."""
    augment_every_draw: bool
    """RandomHorizontalFlip + RandomRotation(15 degrees) on every training draw (no feature cache possible)."""
    evaluate_every_epoch: bool
    """Evaluate the head after every epoch on ``train.eval_draws`` draws with replacement; report the best epoch."""
    headline_metric: str
    """Which accuracy the results file's ``accuracy`` field holds: "macro" or "micro"."""
    description: str


PROTOCOLS: dict[str, TrainingProtocol] = {
    "authors": TrainingProtocol(
        "authors",
        backbone_train_mode=True,
        augment_every_draw=True,
        evaluate_every_epoch=True,
        headline_metric="macro",
        description="authors' probes: train-mode BatchNorm, flip+rotation per draw, raw CLIP head, macro accuracy "
        "per epoch on evaluation draws with replacement, best epoch reported beside the final one",
    ),
    "fast": TrainingProtocol(
        "fast",
        backbone_train_mode=False,
        augment_every_draw=False,
        evaluate_every_epoch=False,
        headline_metric="micro",
        description="cached features of eval-mode backbones, final epoch, every evaluation image once",
    ),
}


def training_protocol(name: str) -> TrainingProtocol:
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise ValueError(f"train.protocol={name!r} is not one of {sorted(PROTOCOLS)}") from None

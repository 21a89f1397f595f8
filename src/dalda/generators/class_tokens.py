"""DA-Fusion's class tokens: learned once per class, saved in the run directory, reused on every later run.

A saved token is reused only if it was learned from the same images, model, seed and textual-inversion settings
(``TI_SETTINGS`` of the generator's resolved settings, ``generators.settings``); it is written atomically, so an
interrupted run keeps every class finished before the interruption.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch
from PIL import Image
from safetensors import safe_open
from safetensors.torch import save

from dalda.config import DaldaConfig
from dalda.progress import progress_bar
from dalda.images import load_rgb
from dalda.generators.placeholder_tokens import placeholder_token
from dalda.generators.settings import TI_SETTINGS, TextualInversionSettings
from dalda.generators.textual_inversion import add_placeholder_tokens, learn_class_token, squash
from dalda.hashing import file_sha256, fingerprint
from dalda.io import atomic_open
from dalda.artefacts import PlanRow
from dalda.artefacts.split import ImageRecord
from dalda.rundir import RunDir
from dalda.seeds import trial_seed
from dalda.protocol import protocol_choices

log = logging.getLogger(__name__)

class ShotRecord(Protocol):
    @property
    def path(self) -> Path: ...

    @property
    def label(self) -> int: ...


class Shots(Protocol):
    """The few-shot training images by class (a ``Split`` is one; :func:`shots_from_plan` makes one)."""

    @property
    def classes(self) -> list[str]: ...

    @property
    def train(self) -> Sequence[ShotRecord]: ...


@dataclass(frozen=True)
class _Shot:
    path: Path
    label: int


@dataclass(frozen=True)
class PlannedShots:
    classes: list[str]
    train: list[_Shot]


def shots_from_plan(rows: Sequence[PlanRow]) -> PlannedShots:
    """The training images the plan was made from (every real image has rows), by class label."""
    names = dict(sorted({(row.label, row.class_name) for row in rows}))
    if list(names) != list(range(len(names))):
        raise ValueError(f"the plan's class labels {sorted(names)} are not 0..{len(names) - 1}; re-run `dalda plan`")
    images = dict(sorted({(row.source_index, (row.source_path, row.label)) for row in rows}))
    return PlannedShots(list(names.values()), [_Shot(Path(path), label) for path, label in images.values()])


def _fingerprint(
    config: DaldaConfig, settings: TextualInversionSettings, class_name: str, image_hashes: list[str]
) -> str:
    return fingerprint(
        {
            "class": class_name,
            "images": sorted(image_hashes),
            "model": [config.models.profile, settings.sd_model],
            "settings": settings.model_dump(include=set(TI_SETTINGS)),
            "seed": trial_seed(config.seed, config.data.trial),
            # recorded only when squashed, so a token learned before the choice existed (cropped) stays fresh
            **({"image_shape": "squash"} if _squashes(config) else {}),
        }
    )


def _squashes(config: DaldaConfig) -> bool:
    """Whether ``train.protocol`` squashes the training images whole to the square (``dalda.protocol``)."""
    return protocol_choices(config.train.protocol).ti_images == "squash"


def _training_images(
    config: DaldaConfig, settings: TextualInversionSettings, records: Sequence[ImageRecord]
) -> list[Image.Image]:
    """The class's shots as the token learns from them: squashed to the square when ``train.protocol`` says so."""
    images = [load_rgb(record.path) for record in records]
    return [squash(image, settings.ti_resolution) for image in images] if _squashes(config) else images


def _token_path(run: RunDir, class_name: str) -> Path:
    return run.textual_inversion / f"{placeholder_token(class_name).strip('<>')}.safetensors"


def _class_fingerprints(
    config: DaldaConfig, settings: TextualInversionSettings, shots: Shots
) -> list[tuple[int, str, str]]:
    """(label, class, fingerprint) of every class."""
    result = []
    for label, class_name in enumerate(shots.classes):
        hashes = [file_sha256(record.path) for record in shots.train if record.label == label]
        result.append((label, class_name, _fingerprint(config, settings, class_name, hashes)))
    return result


def _load_if_fresh(path: Path, expected: str) -> torch.Tensor | None:
    """The saved embedding, if the file exists and was learned with the ``expected`` fingerprint."""
    if not path.exists():
        return None
    with safe_open(str(path), framework="pt") as handle:
        if (handle.metadata() or {}).get("fingerprint") != expected:
            return None
        return handle.get_tensor("embedding")


def _save(path: Path, tensor: torch.Tensor, metadata: dict[str, str]) -> None:
    with atomic_open(path, "wb") as handle:
        handle.write(save({"embedding": tensor.contiguous()}, metadata=metadata))


def class_fingerprints(config: DaldaConfig, settings: TextualInversionSettings, shots: Shots) -> dict[str, str]:
    """{class: fingerprint of what its token is learned from} (hashes every shot once)."""
    return {name: expected for _, name, expected in _class_fingerprints(config, settings, shots)}


def token_is_fresh(run: RunDir, class_name: str, expected: str) -> bool:
    """Whether ``class_name`` has a saved token learned with the ``expected`` fingerprint (written atomically, so
    a file another process is still writing never counts)."""
    return _load_if_fresh(_token_path(run, class_name), expected) is not None


def _install(pipe: Any, class_names: list[str], embeddings: list[torch.Tensor]) -> dict[str, str]:
    weights = pipe.text_encoder.get_input_embeddings().weight
    tokens = {}
    for class_name, embedding in zip(class_names, embeddings):
        token = placeholder_token(class_name)
        with torch.no_grad():
            weights[pipe.tokenizer.convert_tokens_to_ids(token)] = embedding.to(weights.device, weights.dtype)
        tokens[class_name] = token
    return tokens


def ensure_class_tokens(
    pipe: Any,
    config: DaldaConfig,
    settings: TextualInversionSettings,
    split: Shots,
    run: RunDir,
    only: Sequence[str] | None = None,
) -> dict[str, str]:
    """Give ``pipe`` a learned token per class (learning the missing ones); returns {class: token}.

    ``settings``: the generator's resolved settings (its checkpoint and textual-inversion settings); ``config``
    gives the models profile and the trial's seed (``dalda.seeds``). ``only``: learn and install just these
    classes (a process's share when several learn in parallel). A token depends only on its own class's images,
    settings and seed, never on which other tokens are in place.
    """
    add_placeholder_tokens(pipe.tokenizer, pipe.text_encoder, split.classes, settings.ti_init_word)
    for label, class_name, expected in _class_fingerprints(config, settings, split):
        if only is not None and class_name not in only:
            continue
        path = _token_path(run, class_name)
        saved = _load_if_fresh(path, expected)
        if saved is None and path.exists():
            log.warning(
                "WARNING: relearning the token of %r: %s was learned from other images, settings or seed",
                class_name, path,
            )  # fmt: skip
        if saved is None:
            records = [record for record in split.train if record.label == label]
            with progress_bar(
                f"textual inversion: {class_name}", total=settings.ti_steps, unit="step"
            ) as advance:
                learned = learn_class_token(
                    pipe, class_name, _training_images(config, settings, records), settings,
                    seed=trial_seed(config.seed, config.data.trial) + label, progress=advance,
                )
            saved = learned.embedding
            metadata = {"fingerprint": expected, "class": class_name, "token": placeholder_token(class_name),
                        "final_loss": f"{learned.final_loss:.6f}"}
            _save(path, saved, metadata)
            log.info("learned %s for %r (final loss %.4f)", metadata["token"], class_name, learned.final_loss)
        _install(pipe, [class_name], [saved])  # the next class learns with this one in place, as before
    return {name: placeholder_token(name) for name in split.classes}


def load_class_tokens(pipe: Any, run: RunDir) -> dict[str, str]:
    """Give ``pipe`` every token saved in the run directory (learned beforehand by :func:`ensure_class_tokens`)."""
    class_names, embeddings = [], []
    for path in sorted(run.textual_inversion.glob("*.safetensors")):
        with safe_open(str(path), framework="pt") as handle:
            class_names.append((handle.metadata() or {})["class"])
            embeddings.append(handle.get_tensor("embedding"))
    if not class_names:
        raise FileNotFoundError(f"no learned DA-Fusion tokens in {run.textual_inversion}; generation learns them")
    add_placeholder_tokens(pipe.tokenizer, pipe.text_encoder, class_names)
    return _install(pipe, class_names, embeddings)

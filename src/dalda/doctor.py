"""``dalda doctor``: check before a long run what would otherwise fail hours into it; one line per check.

Checks, in the order a run meets them: the device and dtype; every configured checkpoint resolves (a local
folder, the Hugging Face cache, or the Hub when online; offline it says so); the dataset root and its layout
(the dataset's own loader indexes it); the LLM endpoint answers one tiny request, only when the prompts stage
will ask an LLM (once, with a short timeout and no retries, so a dead endpoint answers in seconds); free disk
for the planned images. Then the expected work: synthetic images, LLM prompt rounds, and the GPU-hours and disk
of the cost model (``dalda.costs``) with what it assumes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dalda.chat import CHAT_BACKENDS, backend_settings
from dalda.config import DaldaConfig
from dalda.costs import Estimate, estimate, format_estimate
from dalda.datasets import DATASETS
from dalda.pipeline import stages_for
from dalda.generators import generator_settings
from dalda.generators.settings import StableDiffusionSettings

RANDOM_PROFILES = ("tiny", "full-random")
LLM_PROBE = {"timeout_s": 10.0, "network_retries": 0}
"""How the doctor asks the LLM: one try that gives up after 10 s, overriding the backend's settings where it has
these fields (a run keeps its own patience; a check should not wait minutes on a dead endpoint)."""


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    """What was found, and with ``ok`` false, what to do."""

    def line(self) -> str:
        return f"{'✓' if self.ok else '✗'} {self.name}: {self.detail}"


def _guard(name: str, probe: Callable[[], Check]) -> Check:
    try:
        return probe()
    except Exception as error:  # a check must report, never crash the doctor
        return Check(name, False, f"{type(error).__name__}: {error}")


def check_device(config: DaldaConfig) -> Check:
    from dalda.models.device import resolve_device, resolve_dtype

    try:
        device = resolve_device(config.models)
    except ValueError as error:
        return Check("device", False, str(error))
    dtype = resolve_dtype(config.models, device)
    note = " (slow: set models.dtype=float32 on CPU)" if device.type == "cpu" and dtype != _float32() else ""
    return Check("device", not note, f"{device}, dtype {str(dtype).removeprefix('torch.')}{note}")


def _float32():
    import torch

    return torch.float32


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")


def checkpoints_to_check(config: DaldaConfig) -> dict[str, str]:
    """Config field -> checkpoint id: the chosen generator's own checkpoints (``generator.sd_model``, ...) and
    the CLIP every stage shares."""
    settings = generator_settings(config)
    own = settings.checkpoint_ids() if isinstance(settings, StableDiffusionSettings) else {}
    checkpoints = {f"generator.{field}": name for field, name in own.items()}
    return {**checkpoints, "models.clip_model": config.models.clip_model}


def check_checkpoint(config: DaldaConfig, label: str, name: str) -> Check:
    if Path(name).expanduser().exists():
        return Check(label, True, f"local folder {name}")
    if name.startswith((".", "/", "~")) or os.sep in name.strip("/").replace("/", "", 1):
        return Check(label, False, f"{name} does not exist; fix the path or use a Hub id (owner/name)")
    revision = config.models.revisions.get(name)
    from huggingface_hub import snapshot_download

    try:
        snapshot_download(name, revision=revision, local_files_only=True)
        return Check(label, True, f"{name} in the Hugging Face cache")
    except Exception:
        pass
    if _offline():
        return Check(label, False, f"{name} is not cached and HF_HUB_OFFLINE is set: download it on a machine online")
    from huggingface_hub import HfApi

    try:
        HfApi().model_info(name, revision=revision, timeout=10)
    except Exception as error:
        return Check(label, False, f"{name} is neither cached nor reachable on the Hub ({type(error).__name__}); "
                     "check the id, your network, or `huggingface-cli login` for gated models")
    return Check(label, True, f"{name} on the Hub (downloaded on first use)")


def check_checkpoints(config: DaldaConfig) -> list[Check]:
    if config.models.profile in RANDOM_PROFILES:
        return [Check("checkpoints", True, f"profile {config.models.profile}: random models, nothing to download "
                      "(results mean nothing; use models.profile=real for real images)")]
    return [
        _guard(label, lambda label=label, name=name: check_checkpoint(config, label, name))
        for label, name in checkpoints_to_check(config).items()
    ]


def check_dataset(config: DaldaConfig) -> tuple[Check, int, int]:
    """The dataset's own loader indexes the root; returns the check, the class count and the images per class."""
    spec = DATASETS.get(config.data.dataset)
    root = config.data.root
    if spec.needs_root and (root is None or not Path(root).is_dir()):
        return Check("dataset", False, f"data.root={root} is not a folder; point it at one folder per class"), 0, 0
    with tempfile.TemporaryDirectory() as cache:
        index = spec.load(Path(root) if root else None, False, Path(cache), spec.settings_model.of(config.data))
    classes = list(index.classes)
    counts = Counter(record.label for record in index.trainval)
    fewest = min((counts[label] for label in range(len(classes))), default=0)
    where = root or "built in"
    detail = f"{config.data.dataset} at {where}: {len(classes)} classes, {len(index.trainval)} images"
    if fewest < config.data.shots:
        empty = [name for label, name in enumerate(classes) if counts[label] < config.data.shots][:5]
        return Check("dataset", False, f"{detail}; classes {empty} have fewer than data.shots={config.data.shots} "
                     "images: add images or lower data.shots"), len(classes), fewest
    return Check("dataset", True, detail), len(classes), config.data.shots


def check_llm(config: DaldaConfig) -> Check | None:
    """One tiny request, only when the prompts stage will ask a language model."""
    spec = CHAT_BACKENDS.get(config.prompts.backend)
    if config.prompts.source != "llm" or not spec.is_llm or "prompts" not in stages_for(config):
        return None
    settings = backend_settings(config)
    probe = {name: value for name, value in LLM_PROBE.items() if name in type(settings).model_fields}
    backend = spec.build(config, settings.model_copy(update=probe))
    reply = backend.complete([{"role": "user", "content": "Reply with the word ok."}])
    return Check(f"LLM ({config.prompts.backend})", True, f"answered one request ({len(reply.text)} characters)")


def check_disk(config: DaldaConfig, cost: Estimate) -> Check:
    target = Path(config.out_dir).resolve()
    while not target.exists():
        target = target.parent
    free = shutil.disk_usage(target).free
    need = cost.disk_bytes
    detail = f"{free / 1e9:.1f} GB free at {target}, about {need / 1e9:.2f} GB needed for {cost.images} images"
    return Check("disk", free > need, detail + ("" if free > need else "; free space or choose another --out"))


def doctor(config: DaldaConfig) -> list[Check]:
    """Every check, in the order a run meets them; see the module docstring."""
    checks = [_guard("device", lambda: check_device(config)), *check_checkpoints(config)]
    try:
        dataset, classes, per_class = check_dataset(config)
    except Exception as error:
        dataset, classes, per_class = Check("dataset", False, f"{type(error).__name__}: {error}"), 0, 0
    checks.append(dataset)
    llm = _guard(f"LLM ({config.prompts.backend})", lambda: check_llm(config))  # type: ignore[arg-type, return-value]
    if llm is not None:
        checks.append(llm)
    images = classes * per_class * config.plan.images_per_real if "generate" in stages_for(config) else 0
    try:
        cost: Estimate | None = estimate(config, classes, stages_for(config))
    except Exception as error:  # the estimate reports, never crashes the doctor
        cost = None
        checks.append(Check("estimated cost", False, f"{type(error).__name__}: {error}"))
    if cost is not None:
        checks.append(_guard("disk", lambda: check_disk(config, cost)))
    rounds = config.prompts.num_prompts if llm is not None else 0
    checks.append(
        Check("expected work", True, f"{images} synthetic images ({classes} classes × {per_class} shots × "
              f"{config.plan.images_per_real}); {rounds} LLM prompt rounds, one request each (more when an "
              "answer needs repair)")
    )
    if cost is not None:
        checks.append(Check("estimated cost", True, "\n".join(format_estimate(cost))))
    return checks


def render(checks: list[Check]) -> str:
    return "\n".join(check.line() for check in checks)


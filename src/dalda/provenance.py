"""Collecting a stage's :class:`~dalda.artefacts.provenance.StageProvenance` at the moment it finishes.

Everything is read from the running process, never from the config alone: the versions are those installed now
(the dalda that ran the stage, not the one that later builds the report), a Hub id's commit is the one the local
Hugging Face cache resolved its revision to (what ``from_pretrained`` loaded), and the ``tiny`` and
``full-random`` profiles record "random, built in code", since they load no checkpoint at all. Nothing here
touches the network or fails a stage: what cannot be found is recorded as unknown.
"""

from __future__ import annotations

import platform
import re
import socket
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from dalda.artefacts.provenance import RANDOM_BUILT_IN_CODE, LoadedModel, ProvenanceRecord, StageProvenance
from dalda.config import DaldaConfig
from dalda.generators import generator_settings
from dalda.generators.settings import StableDiffusionSettings
from dalda.redact import MASK, redact_known
from dalda.rundir import RunDir

PACKAGES = ("dalda", "torch", "diffusers", "transformers", "accelerate", "huggingface_hub", "datasets")
_COMMIT = re.compile(r"[0-9a-f]{40}")
_URL_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]+@")


def package_versions() -> dict[str, str | None]:
    """Python's and each of :data:`PACKAGES`' installed version (None: not installed)."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _hub_cache() -> Path:
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def resolved_source(ident: str, revision: str | None, cache: Path | None = None) -> str:
    """The commit ``revision`` (default ``main``) of the Hub id ``ident`` resolved to in the local cache,
    ``local folder`` for a folder, or a short reason why it is unknown."""
    if Path(ident).expanduser().is_dir():
        return "local folder"
    revision = revision or "main"
    if _COMMIT.fullmatch(revision):
        return revision
    ref = (cache or _hub_cache()) / f"models--{ident.replace('/', '--')}" / "refs" / revision
    try:
        commit = ref.read_text().strip()
    except OSError:
        return f"unresolved ({revision}: not in the Hugging Face cache)"
    return commit if _COMMIT.fullmatch(commit) else f"unresolved ({revision})"


def model_ids(config: DaldaConfig) -> dict[str, str]:
    """Setting -> Hub id or folder of every checkpoint the run's config names."""
    ids = {"models.clip_model": config.models.clip_model}
    settings = generator_settings(config)
    if isinstance(settings, StableDiffusionSettings):
        ids |= {f"generator.{key}": value for key, value in settings.checkpoint_ids().items()}
    return ids


def loaded_models(config: DaldaConfig, cache: Path | None = None) -> list[LoadedModel]:
    random = config.models.profile != "real"
    pins = config.models.revisions
    return [
        LoadedModel(role, ident, RANDOM_BUILT_IN_CODE if random else resolved_source(ident, pins.get(ident), cache))
        for role, ident in model_ids(config).items()
    ]


def git_commit(start: Path | None = None) -> str | None:
    """The commit of the git checkout holding dalda's source (``-dirty`` with changes); None when not in one."""
    folder = start or Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()  # fmt: skip
        dirty = subprocess.run(["git", "-C", str(folder), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("-dirty" if dirty else "") if _COMMIT.fullmatch(head) else None


def _accelerators() -> tuple[str | None, str | None, list[str]]:
    import torch

    cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    return torch.version.cuda, str(cudnn) if cudnn else None, gpus


def redact_argument(argument: str) -> str:
    """``argument`` with every key dalda read masked, and the ``user:password@`` of any URL in it."""
    return _URL_CREDENTIALS.sub(f"{MASK}@", redact_known(argument))


def stage_provenance(stage: str, config: DaldaConfig, argv: list[str] | None = None) -> StageProvenance:
    """The record of ``stage`` finishing now in this process."""
    cuda, cudnn, gpus = _accelerators()
    return StageProvenance(
        stage=stage,
        finished=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        profile=config.models.profile,
        models=loaded_models(config),
        versions=package_versions(),
        cuda=cuda,
        cudnn=cudnn,
        gpus=gpus,
        host=socket.gethostname(),
        git_commit=git_commit(),
        argv=[redact_argument(arg) for arg in (sys.argv if argv is None else argv)],
    )


def record_stage(run: RunDir, stage: str, config: DaldaConfig) -> None:
    """Add (or replace) ``stage``'s record in the run's ``provenance.json``."""
    earlier = ProvenanceRecord.read_optional(run) or ProvenanceRecord({})
    earlier.with_stage(stage_provenance(stage, config)).write(run)

"""Loading published checkpoints (the ``real`` profile), with errors that say what is missing and how to fix it.

A checkpoint name is a Hugging Face Hub id or a local folder with the same layout; ``models.offline`` keeps
every load to local folders and the Hub cache. Each loader is given the name together with the config field
that set it, so failures are re-raised as ``ModelLoadError`` naming that field, the value and the three ways out
(network, a local folder, the offline ``tiny`` profile). ``models.revisions`` pins a Hub id to a revision, keyed
by the id itself, so any checkpoint any entry loads can be pinned.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dalda.config import ModelsConfig


class ModelLoadError(RuntimeError):
    """A checkpoint could not be loaded; the message names the config field and how to fix it."""


def fix_hint(field: str) -> str:
    """The ways out of a failed load, for the end of an error message about ``field``."""
    return (
        f"Fix: download it once with network access (it is then cached), point {field} to a local folder with "
        "the same layout, or use models.profile=tiny for offline random models."
    )


def _looks_local(name: str) -> bool:
    """Hub ids are ``owner/name``; anything else path-like is meant as a local folder."""
    return Path(name).expanduser().exists() or name.startswith(("/", ".", "~")) or name.count("/") > 1 or "\\" in name


def source_of(name: str, field: str) -> str:
    """What to hand ``from_pretrained``: a Hub id as given, a local folder expanded (and checked to exist)."""
    if _looks_local(name):
        path = Path(name).expanduser()
        if not path.exists():
            raise ModelLoadError(f"{field}={name!r} is a local path that does not exist. {fix_hint(field)}")
        return str(path)
    return name


def revision(cfg: ModelsConfig, name: str, source: str) -> dict[str, str]:
    """``revision=`` for the checkpoint ``name`` when ``models.revisions`` pins it (a local folder has no
    revisions); the one place those pins are looked up."""
    pinned = cfg.revisions.get(name)
    return {"revision": pinned} if pinned and not _looks_local(source) else {}


def load(cls: Any, cfg: ModelsConfig, name: str, field: str, subfolder: str | None = None) -> Any:
    """``cls.from_pretrained(name, subfolder=...)`` for a diffusers/transformers class, with a clear error."""
    source = source_of(name, field)
    kwargs: dict[str, Any] = {"local_files_only": cfg.offline, **revision(cfg, name, source)}
    if subfolder:
        kwargs["subfolder"] = subfolder
    try:
        return cls.from_pretrained(source, **kwargs)
    except (OSError, ValueError) as error:
        where = f" (subfolder {subfolder!r})" if subfolder else ""
        raise ModelLoadError(
            f"could not load {cls.__name__} from {field}={name!r}{where}: {error}\n{fix_hint(field)}"
        ) from error

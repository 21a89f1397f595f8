"""Dataset descriptions given to the LLM (paper App. C, Tab. 5).

The LLM writes better class prompts when it knows what the dataset looks like, so every LLM request carries a
short description. A dataset's own description is part of its entry in ``dalda.datasets`` (the paper's
datasets and the demo have one); the user's ``data.description`` or ``data.description_file`` overrides it, and
a dataset without one (e.g. ``imagefolder``) needs it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from dalda.config import DataConfig
from dalda.datasets import DATASETS
from dalda.prompts.record import PromptsError


def described_datasets() -> list[str]:
    """The datasets whose entry carries a description."""
    return sorted(name for name, spec in DATASETS.items() if spec.description is not None)


class DescriptionError(PromptsError):
    """No usable dataset description; the message says which setting to fill in."""


MAX_DESCRIPTION_CHARS = 4000
"""The longest dataset description sent to the LLM, in characters (the paper's are one or two sentences); a longer
one is most likely the wrong file, and would be paid for in every request."""


def _bounded(text: str, where: str) -> str:
    if len(text) > MAX_DESCRIPTION_CHARS:
        raise DescriptionError(
            f"{where} is {len(text):,} characters long, more than the {MAX_DESCRIPTION_CHARS} a dataset description "
            "may have; describe the dataset in a few sentences"
        )
    return text


def resolve_description(data: DataConfig) -> str | None:
    """The description for ``data``: ``description``, else ``description_file``, else the built-in one, else None;
    a given one longer than :data:`MAX_DESCRIPTION_CHARS` is an error."""
    if data.description is not None and data.description.strip():
        return _bounded(data.description.strip(), "data.description")
    if data.description_file is not None:
        path = Path(data.description_file)
        if not path.is_file():
            raise DescriptionError(f"data.description_file={path} does not exist; point it to a text file")
        text = path.read_text(encoding="utf-8").strip()
        if not text:
            raise DescriptionError(f"data.description_file={path} is empty; write the dataset description in it")
        return _bounded(text, f"data.description_file={path}")
    return DATASETS.get(data.dataset).description if data.dataset in DATASETS else None


def require_description(data: DataConfig, backend: str) -> str:
    """The description, or a clear error: an LLM backend cannot work without one."""
    description = resolve_description(data)
    if description is None:
        raise DescriptionError(
            f"prompts.backend={backend} needs a dataset description and data.dataset={data.dataset!r} has no "
            f"built-in one (built in: {described_datasets()}); set data.description='...' or "
            "data.description_file=path/to/description.txt"
        )
    return description


def resolve_llm_names(data: DataConfig) -> Mapping[str, str]:
    """class -> the name the LLM is asked with, from the dataset's entry (``DatasetSpec.llm_names``); empty for a
    dataset without one. Only the LLM request and the check of its answer use these names."""
    return DATASETS.get(data.dataset).llm_names if data.dataset in DATASETS else {}

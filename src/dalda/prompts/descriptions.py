"""Dataset descriptions given to the LLM (paper App. C, Tab. 5).

The LLM writes better class prompts when it knows what the dataset looks like, so every LLM request carries a
short description. The paper's datasets have theirs built in; any other dataset needs one from the user
(``data.description`` or ``data.description_file``).
"""

from __future__ import annotations

from pathlib import Path

from dalda.config import DataConfig
from dalda.prompts.record import PromptsError

BUILTIN_DESCRIPTIONS: dict[str, str] = {
    # Ours, for the built-in offline demo set (dalda.data.demo), so LLM backends can be tried on it too.
    "demo": (
        "A small synthetic dataset of procedurally drawn 64 x 64 pictures. Each picture shows one simple "
        "geometric shape or texture in two flat random colours, at a random position, size and angle."
    ),
    # Verbatim from the paper's Tab. 5.
    "pets": (
        "We have created a 37 category pet dataset with roughly 200 images for each class. "
        "The images have a large variations in scale, pose and lighting."
    ),
    # Verbatim from the paper's Tab. 5.
    "caltech101": (
        "Caltech-101 dataset is pictures of objects belonging to 101 categories. About 40 to 800 images per "
        "category. Most categories have about 50 images. The size of each image is roughly 300 x 200 pixels. "
        "We have carefully clicked outlines of each object in these pictures."
    ),
    # Tab. 5 is cut off before this row in our copy of the paper, so this one is written from the dataset's
    # official description (Oxford VGG, "102 Category Flower Dataset"), in the style of the two rows above.
    "flowers102": (
        "We have created a 102 category dataset, consisting of 102 flower categories. The flowers chosen are "
        "flowers commonly occurring in the United Kingdom. Each class consists of between 40 and 258 images. "
        "The images have large scale, pose and light variations."
    ),
}


class DescriptionError(PromptsError):
    """No usable dataset description; the message says which setting to fill in."""


def resolve_description(data: DataConfig) -> str | None:
    """The description for ``data``: ``description``, else ``description_file``, else the built-in one, else None."""
    if data.description is not None and data.description.strip():
        return data.description.strip()
    if data.description_file is not None:
        path = Path(data.description_file)
        if not path.is_file():
            raise DescriptionError(f"data.description_file={path} does not exist; point it to a text file")
        text = path.read_text(encoding="utf-8").strip()
        if not text:
            raise DescriptionError(f"data.description_file={path} is empty; write the dataset description in it")
        return text
    return BUILTIN_DESCRIPTIONS.get(data.dataset)


def require_description(data: DataConfig, backend: str) -> str:
    """The description, or a clear error: an LLM backend cannot work without one."""
    description = resolve_description(data)
    if description is None:
        raise DescriptionError(
            f"prompts.backend={backend} needs a dataset description and data.dataset={data.dataset!r} has no "
            f"built-in one (built in: {sorted(BUILTIN_DESCRIPTIONS)}); set data.description='...' or "
            "data.description_file=path/to/description.txt"
        )
    return description

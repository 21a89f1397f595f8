"""The plain record types every dataset loader returns (``ImageRecord`` is shared with ``split.json``).

A dataset is reduced to file paths and integer labels (index into ``classes``) so that splits can be written to
JSON, compared byte for byte and reloaded by any later stage without the dataset's own loader.
"""

from __future__ import annotations

from dataclasses import dataclass

from dalda.artefacts.split import ImageRecord
from dalda.names import colliding_names


@dataclass
class DatasetIndex:
    """A dataset's class names (readable, they go into prompts) and its trainval / official test records.

    ``test`` is None when the dataset has no official test split (Caltech-101, the demo, a flat ImageFolder).
    """

    name: str
    classes: list[str]
    trainval: list[ImageRecord]
    test: list[ImageRecord] | None

    def __post_init__(self) -> None:
        collisions = colliding_names(self.classes)
        if collisions:
            shown = "; ".join(" / ".join(repr(name) for name in group) for group in collisions)
            raise ValueError(
                f"dataset {self.name!r} has class names that read as one name ({shown}): prompts could not tell "
                "them apart (case, '_', '-', spaces and Unicode form are ignored when names are compared); "
                "rename or merge those class folders"
            )
        if len(set(self.classes)) != len(self.classes):
            repeated = sorted({name for name in self.classes if self.classes.count(name) > 1})
            raise ValueError(f"dataset {self.name!r} has repeated class names {repeated}; class names must be unique")
        for part, records in (("trainval", self.trainval), ("test", self.test or [])):
            for record in records:
                if not 0 <= record.label < len(self.classes):
                    raise ValueError(
                        f"dataset {self.name!r} {part} record {record.path} has label {record.label}, "
                        f"outside 0..{len(self.classes) - 1}"
                    )


def sorted_records(records: list[ImageRecord]) -> list[ImageRecord]:
    """Records by label then path, so file-system listing order never changes a split."""
    return sorted(records, key=lambda record: (record.label, str(record.path)))

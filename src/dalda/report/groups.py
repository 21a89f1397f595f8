"""High- and low-CLIPScore dataset groups (HC / LC), as the paper splits its datasets for Tab. 3.

A dataset's CLIPScore is the mean over its scored real images (each image once, whichever runs scored it).
The paper reports means of 0.84 (Caltech-101) and 0.78 (Oxford Pets) for its HC group and 0.55 (Flowers102)
for LC, with the softmax CLIPScore (each dataset's ``alignment`` in ``dalda.datasets``); a threshold of 0.7
separates them and is the default here. A dataset with mean >= threshold is HC, below is LC; a dataset with no
scores (e.g. only real-image runs) has no group.
"""

from __future__ import annotations

from dataclasses import dataclass

from dalda.datasets import DATASETS

HC_THRESHOLD = 0.7


@dataclass(frozen=True)
class DatasetGroup:
    dataset: str
    mean_score: float | None
    images: int
    group: str | None
    """"HC", "LC", or None when the dataset has no CLIPScores."""


def dataset_groups(
    scores: dict[str, dict[str, float]], datasets: list[str], threshold: float
) -> dict[str, DatasetGroup]:
    """The group of each dataset from its real images' CLIPScores (``scores``: dataset -> {image: score})."""
    groups = {}
    for dataset in datasets:
        values = list(scores.get(dataset, {}).values())
        mean = sum(values) / len(values) if values else None
        group = None if mean is None else ("HC" if mean >= threshold else "LC")
        groups[dataset] = DatasetGroup(dataset, mean, len(values), group)
    return groups


def dataset_order(datasets: list[str]) -> list[str]:
    """The paper's datasets in its order (Pets, Caltech-101, Flowers102), then the others as first met."""
    found = list(dict.fromkeys(datasets))
    known = [name for name, spec in DATASETS.items() if spec.alignment is not None and name in found]
    return known + [name for name in found if name not in known]


def dataset_title(dataset: str, group: DatasetGroup | None = None) -> str:
    """"Oxford Pets (HC)" style heading; unknown datasets are shown as named."""
    title = DATASETS.get(dataset).title if dataset in DATASETS else dataset
    return f"{title} ({group.group})" if group is not None and group.group else title

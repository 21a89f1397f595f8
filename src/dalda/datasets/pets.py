"""Oxford-IIIT Pet (paper: "Oxford Pets"), read through torchvision.

37 breeds, named as torchvision names them ("Abyssinian", "American Bulldog", ...). trainval = the official
"trainval" list, test = the official "test" list, each in the file's own order: the authors' split permutes a
breed's images in that order (``Halves(order="listed")``), so sorting them would change which files it picks.
"""

from __future__ import annotations

from pathlib import Path

from dalda.datasets.records import DatasetIndex, ImageRecord
from dalda.datasets.spec import DatasetSpec, Halves, PaperAlignment
from dalda.datasets.torchvision_root import build, dataset_root, existing, require_files
from dalda.settings import NoSettings


def load_pets(root: Path | None, download: bool, cache_dir: Path, settings: NoSettings) -> DatasetIndex:
    """Oxford-IIIT Pet under ``root`` (``cache_dir`` unused)."""
    from torchvision.datasets import OxfordIIITPet  # torchvision loads only when this dataset is used

    root = dataset_root(root, "pets")
    base = root / "oxford-iiit-pet"
    require_files(
        "Oxford-IIIT Pet",
        root,
        download,
        [base / "images", base / "annotations" / "trainval.txt", base / "annotations" / "test.txt"],
        [
            "oxford-iiit-pet/images/<Breed_name>_<n>.jpg",
            "oxford-iiit-pet/annotations/trainval.txt",
            "oxford-iiit-pet/annotations/test.txt",
        ],
    )
    splits = {
        split: build("Oxford-IIIT Pet", root, lambda s=split: OxfordIIITPet(root, split=s, download=download))
        for split in ("trainval", "test")
    }
    classes = list(splits["trainval"].classes)
    if list(splits["test"].classes) != classes:
        raise ValueError(f"{base}/annotations: trainval.txt and test.txt list different breeds; re-download the set")
    records = {
        split: existing([ImageRecord(Path(p), int(y)) for p, y in zip(ds._images, ds._labels, strict=True)], "pets")
        for split, ds in splits.items()
    }
    return DatasetIndex(name="pets", classes=classes, trainval=records["trainval"], test=records["test"])


PETS = DatasetSpec(
    name="pets",
    title="Oxford Pets",
    # The facts of the paper's Tab. 5 row, in our words.
    description=(
        "Photos of pets in 37 categories, about 200 images per category. Scale, pose and lighting vary a lot "
        "from image to image."
    ),
    load=load_pets,
    alignment=PaperAlignment(mean_clipscore=0.7782, group="HC"),
    # The authors draw the shots from half of trainval.txt and evaluate on half of test.txt, in the files' order.
    halves=Halves(pool_from="trainval", eval_from="test", order="listed"),
    licence="CC BY-SA 4.0 (Oxford-IIIT Pet Dataset, Parkhi et al. 2012)",
    citation="""@inproceedings{parkhi2012cats,
  title     = {Cats and Dogs},
  author    = {Parkhi, Omkar M. and Vedaldi, Andrea and Zisserman, Andrew and Jawahar, C. V.},
  booktitle = {IEEE Conference on Computer Vision and Pattern Recognition},
  year      = {2012}
}""",
    num_classes=37,
)

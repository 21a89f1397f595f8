"""Caltech-101, read through torchvision: 101 categories, every image in trainval, no official test split.

Raw category names are folder names ("Faces_easy", "car_side"); :func:`caltech101_name` turns them into words a
text encoder and an LLM understand, with every rule written in :data:`CALTECH101_RENAMES`. Under
``train.protocol=authors`` the six renamed classes take the authors' texts back (:data:`CALTECH101_AUTHORS_NAMES`:
the folder name lower-cased, ``_`` as a space, so "faces", "faces easy", "water lilly"). Three names are still
ambiguous to an LLM writing a sentence, so the LLM alone is asked with the noun phrases of
:data:`CALTECH101_LLM_NAMES`, under either set of names (``docs/protocol.md``, rows Class names and Prompts).

The listing is sorted by path: the authors list a class with an unsorted ``glob``, whose order depends on the
file system, so their Caltech split cannot be reproduced file for file anywhere; a sorted listing at least gives
every machine the same split (``docs/protocol.md``, row Split).
"""

from __future__ import annotations

from pathlib import Path

from dalda.datasets.records import DatasetIndex, ImageRecord, sorted_records
from dalda.datasets.spec import DatasetSpec, PaperAlignment
from dalda.datasets.torchvision_root import build, dataset_root, existing, require_files
from dalda.settings import NoSettings

# Caltech-101 folder -> name. Plural folder names become singular; "Faces" and "Faces_easy" hold the same
# people, as uncropped head-and-shoulders photos and as tight face crops, so they need distinct names for the
# softmax CLIPScore (two identical prompts would split every score between them): "portrait" and "face".
# "water_lilly" is the dataset's misspelling. Every other folder: underscores -> spaces, lower case.
CALTECH101_RENAMES: dict[str, str] = {
    "Faces": "portrait",
    "Faces_easy": "face",
    "Leopards": "leopard",
    "Motorbikes": "motorbike",
    "airplanes": "airplane",
    "water_lilly": "water lily",
}


# Class name -> the name the LLM is asked with (DatasetSpec.llm_names). The authors disambiguate the same three
# categories for their LLM only ("bass" -> "bass fish", "faces" -> "face", "faces easy" -> "closed-up face");
# dalda's class names already tell the two face folders apart ("portrait", "face"), so each gets a noun phrase
# that names what its images show and contains its class name:
# - "bass" alone is also the instrument, a voice and a guitar part; the folder holds the fish;
# - "face" (Faces_easy) holds tight crops of a face: "close-up face" (the authors' "closed-up face" in standard
#   spelling);
# - "portrait" (Faces) holds head-and-shoulders photos of people; "portrait" alone may be read as a painting
#   of anything: "portrait of a person".
CALTECH101_LLM_NAMES: dict[str, str] = {
    "bass": "bass fish",
    "face": "close-up face",
    "portrait": "portrait of a person",
    # the same folders under the authors' names (train.protocol=authors)
    "faces easy": "close-up face",
    "faces": "portrait of a person",
}


def _authors_name(folder: str) -> str:
    """The authors' text for a Caltech-101 folder: lower case, ``_`` as a space."""
    return folder.replace("_", " ").lower()


# dalda's readable name -> the authors' text, for the folders CALTECH101_RENAMES renames (DatasetSpec.authors_names)
CALTECH101_AUTHORS_NAMES: dict[str, str] = {name: _authors_name(folder) for folder, name in CALTECH101_RENAMES.items()}


def caltech101_name(folder: str) -> str:
    """Readable name of a Caltech-101 category folder (rules in :data:`CALTECH101_RENAMES`)."""
    return CALTECH101_RENAMES.get(folder, _authors_name(folder))


def load_caltech101(root: Path | None, download: bool, cache_dir: Path, settings: NoSettings) -> DatasetIndex:
    """Caltech-101 under ``root`` (``cache_dir`` unused)."""
    from torchvision.datasets import Caltech101  # torchvision loads only when this dataset is used

    root = dataset_root(root, "caltech101")
    categories_dir = root / "caltech101" / "101_ObjectCategories"
    require_files(
        "Caltech-101",
        root,
        download,
        [categories_dir, categories_dir / "BACKGROUND_Google"],
        [
            "caltech101/101_ObjectCategories/<category>/image_0001.jpg, image_0002.jpg, ...",
            "caltech101/101_ObjectCategories/BACKGROUND_Google/ (torchvision expects it; it is not a class)",
        ],
    )
    ds = build("Caltech-101", root, lambda: Caltech101(root, target_type="category", download=download))
    folder = Path(ds.root) / "101_ObjectCategories"
    records = [
        ImageRecord(folder / ds.categories[y] / f"image_{number:04d}.jpg", int(y))
        for number, y in zip(ds.index, ds.y, strict=True)
    ]
    classes = [caltech101_name(category) for category in ds.categories]
    trainval = sorted_records(existing(records, "caltech101"))
    return DatasetIndex(name="caltech101", classes=classes, trainval=trainval, test=None)


CALTECH101 = DatasetSpec(
    name="caltech101",
    title="Caltech-101",
    # The facts of the paper's Tab. 5 row, in our words.
    description=(
        "Pictures of objects from 101 categories. A category has between about 40 and 800 images, most of them "
        "about 50. Images are roughly 300 x 200 pixels, and the outline of each object was traced by hand."
    ),
    load=load_caltech101,
    alignment=PaperAlignment(mean_clipscore=0.8406, group="HC"),
    licence="CC BY 4.0 (Caltech 101, Fei-Fei et al. 2004, CaltechDATA)",
    citation="""@inproceedings{feifei2004learning,
  title     = {Learning Generative Visual Models from Few Training Examples: An Incremental {Bayesian} Approach
               Tested on 101 Object Categories},
  author    = {Fei-Fei, Li and Fergus, Rob and Perona, Pietro},
  booktitle = {CVPR Workshop on Generative-Model Based Vision},
  year      = {2004}
}""",
    num_classes=101,
    llm_names=CALTECH101_LLM_NAMES,
    authors_names=CALTECH101_AUTHORS_NAMES,
)

"""Readable class names: they end up in prompts ("a photo of a {class}") and in CLIP's class prompts.

Raw dataset identifiers are folder names ("Faces_easy", "car_side") or bare numbers (Flowers102). These
functions turn them into words a text encoder and an LLM understand, with every rule written down here.
"""

from __future__ import annotations

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


def caltech101_name(folder: str) -> str:
    """Readable name of a Caltech-101 category folder (rules in :data:`CALTECH101_RENAMES`)."""
    return CALTECH101_RENAMES.get(folder, folder.replace("_", " ").lower())


def flowers102_names() -> list[str]:
    """The 102 official Oxford flower names, index i = label i+1 of ``imagelabels.mat``.

    torchvision 0.29 ships the list as ``Flowers102.classes``; the only clean-up is dropping the question mark
    the official list carries in "pink-yellow dahlia?".
    """
    from torchvision.datasets import Flowers102

    names = [name.rstrip("?").strip() for name in Flowers102.classes]
    if len(names) != 102:
        raise RuntimeError(f"torchvision's Flowers102.classes has {len(names)} names, expected 102")
    return names


def folder_name(folder: str) -> str:
    """Readable name of an ImageFolder class folder: underscores become spaces, nothing else changes."""
    return folder.replace("_", " ").strip()

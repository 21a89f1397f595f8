"""Oxford Flowers-102 (paper: "Flowers102"), read through torchvision.

trainval = the official "train" + "val" lists, test = the official "test" list; together they are all 8,189
images of ``imagelabels.mat``, which ``data.eval_split=authors`` halves per class as the authors do (about 4.1 k
evaluation images, pools of 20 to 129 per class, so 16 shots work). Class names are the 102 official flower
names (:func:`flowers102_names`).
"""

from __future__ import annotations

from pathlib import Path

from dalda.datasets.records import DatasetIndex, ImageRecord, sorted_records
from dalda.datasets.spec import DatasetSpec, PaperAlignment
from dalda.datasets.torchvision_root import build, dataset_root, existing, require_files
from dalda.settings import NoSettings

_MAT_FILES = ("imagelabels.mat", "setid.mat")


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


def load_flowers102(root: Path | None, download: bool, cache_dir: Path, settings: NoSettings) -> DatasetIndex:
    """Oxford Flowers-102 under ``root`` (``cache_dir`` unused)."""
    from torchvision.datasets import Flowers102  # torchvision loads only when this dataset is used

    class _PresentFlowers102(Flowers102):
        """torchvision's Flowers102 minus the MD5 check of the two .mat files when they are already present.

        A user-placed or re-saved copy with the same content is accepted; downloads are still verified by
        torchvision's ``download_url``. A damaged .mat file still fails, in ``scipy.io.loadmat``.
        """

        def _check_integrity(self) -> bool:
            base = Path(self._base_folder)
            return self._images_folder.is_dir() and all((base / name).is_file() for name in _MAT_FILES)

    root = dataset_root(root, "flowers102")
    base = root / "flowers-102"
    require_files(
        "Oxford Flowers-102",
        root,
        download,
        [base / "jpg", *(base / name for name in _MAT_FILES)],
        ["flowers-102/jpg/image_00001.jpg, image_00002.jpg, ...", *(f"flowers-102/{name}" for name in _MAT_FILES)],
    )

    def records(split: str) -> list[ImageRecord]:
        ds = build("Oxford Flowers-102", root, lambda: _PresentFlowers102(root, split=split, download=download))
        listed = [ImageRecord(Path(p), int(y)) for p, y in zip(ds._image_files, ds._labels, strict=True)]
        return existing(listed, "flowers102")

    trainval = sorted_records(records("train") + records("val"))
    test = sorted_records(records("test"))
    return DatasetIndex(name="flowers102", classes=flowers102_names(), trainval=trainval, test=test)


FLOWERS102 = DatasetSpec(
    name="flowers102",
    title="Flowers102",
    # The facts of the paper's Tab. 5 row, in our words.
    description=(
        "Photos of flowers in 102 flower categories, chosen among flowers that are common in the United "
        "Kingdom. A category has between 40 and 258 images."
    ),
    load=load_flowers102,
    alignment=PaperAlignment(mean_clipscore=0.5548, group="LC"),
    licence=(
        "no licence stated by the publishers (Oxford 102 Flowers, Nilsback & Zisserman 2008); the images come "
        "from the web: use them for research and check before redistributing"
    ),
    citation="""@inproceedings{nilsback2008automated,
  title     = {Automated Flower Classification over a Large Number of Classes},
  author    = {Nilsback, Maria-Elena and Zisserman, Andrew},
  booktitle = {Indian Conference on Computer Vision, Graphics and Image Processing},
  year      = {2008}
}""",
    num_classes=102,
)

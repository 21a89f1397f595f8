"""CLIPScore of each real training image against "a photo of a {class}" (paper Sec. 3.1).

Two named variants, because the paper and the authors' code differ (shared/REFERENCE.md):

- ``softmax`` (default, what produced the paper's numbers): the probability CLIP gives the image's true class
  when its logits against *every* class prompt are softmaxed. In [0, 1]; dataset means 0.84/0.78/0.55.
- ``cosine``: the raw cosine between the image and its class prompt, as the paper's text describes. AGS uses it
  clamped to [0, 1]; the Hessel et al. CLIPScore 2.5 * max(cos, 0) is stored beside it for reference.

Every record carries all values, so switching the variant needs no recomputation. A score depends only on the
image, the class list, the template and the CLIP model, so it is computed once and cached in ``scores.jsonl``.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from dalda.data.images import load_rgb
from dalda.data.records import ImageRecord
from dalda.models.loaders import ClipBundle


@dataclass(frozen=True)
class ImageScore:
    path: str
    class_name: str
    label: int
    sha256: str
    softmax: float
    cosine: float
    hessel: float
    clip_model: str
    template: str

    def value(self, variant: str) -> float:
        """The score AGS uses for this variant, always in [0, 1]."""
        if variant == "softmax":
            return self.softmax
        return min(max(self.cosine, 0.0), 1.0)


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@torch.no_grad()
def class_text_embeddings(clip: ClipBundle, classes: list[str], template: str) -> torch.Tensor:
    return clip.encode_texts([template.format(name) for name in classes])


@torch.no_grad()
def score_images(
    clip: ClipBundle,
    records: list[ImageRecord],
    classes: list[str],
    template: str,
    clip_model_id: str,
    batch_size: int,
) -> list[ImageScore]:
    """Score images in batches against all class prompts; one record per image, in input order."""
    text = class_text_embeddings(clip, classes, template)
    scores: list[ImageScore] = []
    for start in range(0, len(records), batch_size):
        batch = records[start : start + batch_size]
        images = clip.encode_images([load_rgb(record.path) for record in batch])
        cosines = images @ text.T
        probabilities = (clip.logit_scale * cosines).softmax(dim=-1)
        for row, record in enumerate(batch):
            cosine = float(cosines[row, record.label])
            scores.append(
                ImageScore(
                    path=str(record.path),
                    class_name=classes[record.label],
                    label=record.label,
                    sha256=file_sha256(record.path),
                    softmax=float(probabilities[row, record.label]),
                    cosine=cosine,
                    hessel=2.5 * max(cosine, 0.0),
                    clip_model=clip_model_id,
                    template=template,
                )
            )
    return scores


def score_to_row(score: ImageScore) -> dict:
    return asdict(score)


def score_from_row(row: dict) -> ImageScore:
    return ImageScore(**row)

"""The dataset card (``README.md``) of an export: the Hub's YAML header, then how the images were made.

The header's ``dataset_info.features`` is written by ``datasets`` from the very ``Features`` the Parquet files
were written with (:meth:`datasets.Features._to_yaml_list`), so card and data cannot disagree, and ``configs``
names the ``train`` and ``test`` files, so ``load_dataset`` on the folder or the Hub repo finds both splits.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import yaml

from dalda.artefacts import Split
from dalda.config import DaldaConfig, config_to_yaml
from dalda.datasets import DATASETS

DALDA_CITATION = """@misc{jung2024dalda,
  title  = {{DALDA}: Data Augmentation Leveraging Diffusion Model and {LLM} with Adaptive Guidance Scaling},
  author = {Jung, Kyuheon and Seo, Yongdeuk and Cho, Seongwoo and Kim, Jaeyoung and Min, Hyun-seok and
            Choi, Sungchul},
  year   = {2024},
  eprint = {2409.16949},
  archivePrefix = {arXiv},
  primaryClass  = {cs.CV}
}"""


@dataclass(frozen=True)
class FilterState:
    """What the filter stage decided about the run's synthetic images, as the card states it."""

    ran: bool
    kept: int
    rejected: int
    unjudged: int
    included_rejected: bool

    def sentence(self) -> str:
        if not self.ran:
            return "the filter stage did not run: every synthetic image is included"
        text = f"the filter stage kept {self.kept} and rejected {self.rejected} synthetic images"
        if self.unjudged:
            text += f"; {self.unjudged} made after it ran were not judged and are included, as training includes them"
        if self.included_rejected:
            return text + "; rejected images are included too, with `kept` false (`--include-rejected`)"
        return text + "; only kept images are included"


def dataset_card(
    config: DaldaConfig, split: Split, features: Any, counts: Counter[str], method: str, filtered: FilterState
) -> str:
    """The card's text; ``counts`` has ``train_real``, ``train_synthetic`` and ``test`` image counts."""
    spec = DATASETS.get(split.dataset) if split.dataset in DATASETS else None
    licence = (spec.licence if spec else None) or "unknown: state the licence of your source images before sharing"
    header = {
        "license": "other",
        "license_name": "source-images-licence",
        "task_categories": ["image-classification"],
        "tags": ["dalda", "synthetic", "few-shot"],
        "pretty_name": f"{spec.title if spec else split.dataset} (dalda)",
        "configs": [
            {
                "config_name": "default",
                "data_files": [
                    {"split": "train", "path": "data/train-*.parquet"},
                    {"split": "test", "path": "data/test-*.parquet"},
                ],
            }
        ],
        "dataset_info": {"features": features._to_yaml_list()},
    }
    citations = "\n\n".join(c for c in (DALDA_CITATION, spec.citation if spec else None) if c)
    return f"""---
{yaml.safe_dump(header, sort_keys=False, allow_unicode=True).rstrip()}
---

# {spec.title if spec else split.dataset}: few-shot training images, real and synthetic (dalda)

Made by [dalda](https://arxiv.org/abs/2409.16949) from run `{config.out_dir.name if config.out_dir else '.'}`.

## How the data was made

- method: `{method}`; generator: `{config.generator.name}`; model profile: `{config.models.profile}`
- dataset: `{split.dataset}`, {len(split.classes)} classes, {split.shots} real images per class, trial {split.trial}
- `train`: {counts['train_real']} real images and {counts['train_synthetic']} synthetic ones (column `synthetic`);
  each synthetic image was made from the real image at `source_index`, with its `prompt`, IP-Adapter scale
  `ip_scale`, `strength` and `seed`; its other columns are those of dalda's manifest (alignment score
  `clipscore` and `group`, prompt index `m`, the generation settings that decided its pixels)
- `test`: {counts['test']} real images, the run's evaluation split (`{split.eval_split}`)
- filter: {filtered.sentence()}
- labels: `label` is a `ClassLabel` in dalda's class order; real images are decoded as dalda decoded them for
  training (EXIF orientation applied, 8-bit RGB)

## Licence

Source images: {licence}. Synthetic images are derived from them.

## Citation

```bibtex
{citations}
```

## Config

```yaml
{config_to_yaml(config).rstrip()}
```
"""

"""The placeholder token that stands for one class in DA-Fusion's prompts (``<dalda-tabby>``).

Planning writes it into every DA-Fusion prompt and textual inversion (``textual_inversion``) learns its
embedding; it lives apart from both so that planning needs neither torch nor the text encoder.
"""

from __future__ import annotations

import hashlib
import re


def placeholder_token(class_name: str) -> str:
    """A token string no tokenizer already knows, unique per class name and short enough for a file name.

    A plain lowercase ASCII name is used as is ('tabby' -> '<dalda-tabby>'); any other name gets a readable
    ASCII part (at most 40 characters) plus a hash of the whole name, so names that slug alike ('猫' and '犬',
    'a b' and 'a-b') still get two tokens and two files: 'golden retriever' -> '<dalda-golden-retriever-1c2d3e4f>'.
    """
    if re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", class_name) and len(class_name) <= 40:
        return f"<dalda-{class_name}>"
    slug = re.sub(r"[^a-z0-9]+", "-", class_name.lower()).strip("-")[:40].strip("-") or "class"
    digest = hashlib.sha256(class_name.encode("utf-8")).hexdigest()[:8]
    return f"<dalda-{slug}-{digest}>"

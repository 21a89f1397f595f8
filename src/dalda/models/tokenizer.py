"""An offline CLIP tokenizer for the random-weight profiles.

CLIP's real vocabulary is a 49k-entry download; the random profiles need none of its merges, only a tokenizer
that accepts any text exactly as the real one does. A byte-level BPE whose vocabulary holds all 256 byte
symbols (alone and as word ends) can spell every string, so nothing is ever unknown; a handful of merges keeps
the BPE path exercised. The files are written to a temporary folder and read back with
``CLIPTokenizer.from_pretrained``, the same path as a downloaded tokenizer, then the folder is removed.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from tokenizers import pre_tokenizers
from transformers import CLIPTokenizer

BOS = "<|startoftext|>"
EOS = "<|endoftext|>"
WORD_END = "</w>"
CONTEXT_LENGTH = 77  # CLIP's text context, also SD's

# A few merges of common prompt words ("a photo of the ..."), each pair made of tokens already in the vocabulary.
MERGES = (
    ("t", "h"),
    ("th", "e" + WORD_END),
    ("o", "f" + WORD_END),
    ("p", "h"),
    ("ph", "o"),
    ("pho", "t"),
    ("phot", "o" + WORD_END),
)


def byte_level_vocab(vocab_size: int | None = None) -> tuple[dict[str, int], list[str]]:
    """Vocabulary and merges; ``vocab_size`` pads with unreachable filler tokens to match a real embedding size.

    Order follows CLIP: byte symbols, the same as word ends, merged tokens, [fillers], then BOS and EOS last.
    """
    symbols = sorted(pre_tokenizers.ByteLevel.alphabet())
    tokens = symbols + [symbol + WORD_END for symbol in symbols] + [left + right for left, right in MERGES]
    minimum = len(tokens) + 2
    if vocab_size is not None:
        if vocab_size < minimum:
            raise ValueError(f"vocab_size={vocab_size} is below the byte-level minimum of {minimum}")
        tokens += [f"<|filler_{index}|>" for index in range(vocab_size - minimum)]
    tokens += [BOS, EOS]
    return {token: index for index, token in enumerate(tokens)}, [f"{left} {right}" for left, right in MERGES]


def build_byte_level_tokenizer(vocab_size: int | None = None) -> CLIPTokenizer:
    """A ``CLIPTokenizer`` that tokenizes any text offline; truncates to CLIP's 77-token context."""
    vocab, merges = byte_level_vocab(vocab_size)
    with tempfile.TemporaryDirectory(prefix="dalda-tokenizer-") as folder:
        root = Path(folder)
        (root / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
        (root / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
        return CLIPTokenizer.from_pretrained(root, model_max_length=CONTEXT_LENGTH)


# BERT-style special tokens, and the "[DEC]" start-of-answer token BLIP adds to BERT's vocabulary.
WORDPIECE_SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
BLIP_DECODER_START = "[DEC]"
WORDPIECE_WORDS = ("is", "this", "a", "photo", "of", "yes", "no")


def build_wordpiece_tokenizer():
    """An offline BERT tokenizer (lower-cased WordPiece) for BLIP's random-weight models.

    Every lower-case ASCII letter and digit is in the vocabulary alone and as a ``##`` continuation, so any
    ASCII word is spelled without ``[UNK]``; "yes" and "no" are whole tokens, as in BERT's real vocabulary, so
    the VQA scorer reads one token's probability. ``[DEC]`` is the last entry and the tokenizer's BOS token.
    """
    import string

    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import BertTokenizerFast

    symbols = list(string.ascii_lowercase + string.digits)
    punctuation = list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
    tokens = [*WORDPIECE_SPECIALS, *symbols, *punctuation, *(f"##{symbol}" for symbol in symbols)]
    tokens += [word for word in WORDPIECE_WORDS if word not in tokens] + [BLIP_DECODER_START]
    vocab = {token: index for index, token in enumerate(tokens)}
    backend = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    backend.normalizer = normalizers.BertNormalizer(lowercase=True)
    backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    backend.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    backend.decoder = decoders.WordPiece()
    return BertTokenizerFast(
        tokenizer_object=backend,
        unk_token="[UNK]",
        sep_token="[SEP]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        mask_token="[MASK]",
        bos_token=BLIP_DECODER_START,
        model_max_length=512,
    )

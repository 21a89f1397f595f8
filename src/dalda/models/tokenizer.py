"""Offline tokenizers for the random-weight profiles: a CLIP tokenizer (SD, SDXL, CLIP, SigLIP) and a BERT one
(BLIP).

CLIP's real vocabulary is a 49k-entry download; the random profiles need none of its merges, only a tokenizer
that accepts any text exactly as the real one does and splits it about as coarsely. A byte-level BPE whose
vocabulary holds all 256 byte symbols (alone and as word ends) can spell every string, so nothing is ever
unknown. On top of them, merges learned (by plain BPE, at build time) from a small built-in list of English
words that prompts use make each of those words one token, as CLIP's own vocabulary does; any other word
falls back to pieces and bytes. Without them a prompt costs one token per character, and ordinary prompts
would exceed the 77-token context that the real tokenizer fits them in. The files are written to a temporary
folder and read back with ``CLIPTokenizer.from_pretrained``, the same path as a downloaded tokenizer, then the
folder is removed.
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
CLIP_VOCAB_SIZE = 49408
"""CLIP's vocabulary size: the full-size random models pad the offline tokenizer to it, so every embedding table
has the published shape."""

# Words common in image prompts (the template backend's scenes, the quality prefix, the demo's classes, everyday
# subjects); each becomes one token. Only the words matter, not their order.
PROMPT_WORDS = """
a an the of in on at by to with without and or as while from into onto over under near next across around
behind beside between above below through along up down out off for its their his her is are this that
photo photograph picture image shot snapshot view close wide angle side top front back low high eye level
three quarter telephoto macro portrait landscape candid best quality detailed realistic sharp focus
table wooden garden sunny quiet living room busy city street forest clearing sandy beach snowy field
brightly lit studio large small window public park stone path calm lake grassy meadow rooftop terrace rustic
barn warm golden hour light soft overcast pastel colour color colours colors palette vivid saturated muted
earthy tones dusk cool blue dappled sunlight ground leaves foreground background partly framed open doorway
rain falls people walk gentle breeze moves grass mist drifting long shadows scene sky water tree trees
flower flowers petals leaf bird dog cat pet animal car plane object red green yellow white black brown pink
purple orange grey gray bright dark shadow sun morning evening night day indoor outdoor home house wall floor
circle square triangle stripes checkerboard shape pattern drawn paper plain fancy take
"""
WORD_MERGES_LIMIT = 4000
"""More merges than learning :data:`PROMPT_WORDS` needs; a bound, so the vocabulary stays far below CLIP's."""


def learn_merges(words: list[str]) -> list[tuple[str, str]]:
    """Plain BPE: merge the most frequent adjacent pair (ties: the first in sorted order) until each word is
    one token; tokens are the byte-level symbols, the last one of a word carrying ``</w>``."""
    spelled = {word: [*word[:-1], word[-1] + WORD_END] for word in dict.fromkeys(words) if word}
    merges: list[tuple[str, str]] = []
    while len(merges) < WORD_MERGES_LIMIT:
        counts: dict[tuple[str, str], int] = {}
        for pieces in spelled.values():
            for pair in zip(pieces, pieces[1:]):
                counts[pair] = counts.get(pair, 0) + 1
        if not counts:
            break
        best = min(counts, key=lambda pair: (-counts[pair], pair))
        merges.append(best)
        for word, pieces in spelled.items():
            if len(pieces) > 1:
                spelled[word] = _merge(pieces, best)
    return merges


def _merge(pieces: list[str], pair: tuple[str, str]) -> list[str]:
    merged: list[str] = []
    index = 0
    while index < len(pieces):
        if index + 1 < len(pieces) and (pieces[index], pieces[index + 1]) == pair:
            merged.append(pieces[index] + pieces[index + 1])
            index += 2
        else:
            merged.append(pieces[index])
            index += 1
    return merged


MERGES = tuple(learn_merges(PROMPT_WORDS.split()))


def byte_level_vocab(vocab_size: int | None = None) -> tuple[dict[str, int], list[str]]:
    """Vocabulary and merges; ``vocab_size`` pads with unreachable filler tokens to match a real embedding size.

    Order follows CLIP: byte symbols, the same as word ends, merged tokens, [fillers], then BOS and EOS last.
    """
    symbols = sorted(pre_tokenizers.ByteLevel.alphabet())
    merged = list(dict.fromkeys(left + right for left, right in MERGES))
    tokens = symbols + [symbol + WORD_END for symbol in symbols] + merged
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


def special_token_ids(tokenizer) -> dict[str, int]:
    """The text-config keywords that size a text model's embedding table to ``tokenizer`` and make it pool at the
    real end-of-text token."""
    return {
        "vocab_size": len(tokenizer),
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }


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

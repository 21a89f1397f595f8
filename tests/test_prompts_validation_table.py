"""The validator's mention rule on a table of tricky sentences (dalda.chat.request, issue 11).

Each row: the classes of the dataset (a slice of Caltech-101, Oxford Pets or Flowers102 names, or a small
list where the row needs a class those datasets lack), the LLM-facing names, the class the sentence was
written for, the sentence, and what the validator must say: None (accepted) or a fragment of its flag.
"""

from __future__ import annotations

import unicodedata

import pytest

from dalda.chat.request import ClassNameMatcher
from dalda.datasets.caltech101 import CALTECH101_LLM_NAMES

CALTECH = [
    "pagoda", "watch", "camera", "cup", "laptop", "bass", "crab", "chair", "butterfly", "dragonfly", "water lily",
    "face", "portrait", "leopard", "lotus", "sunflower", "anchor", "wheelchair", "car side", "cellphone",
]  # fmt: skip
PETS = ["Abyssinian", "Bengal", "Egyptian_Mau", "great_pyrenees", "english cocker spaniel", "pug", "boxer"]
FLOWERS = ["water lily", "sunflower", "lotus", "rose", "bird of paradise", "sweet pea", "fire lily"]
ANIMALS = ["cat", "dog", "camera", "cup", "laptop", "Löwe"]

ACCEPT = None
ROWS = [
    # (classes, llm names, own class, sentence, expected)
    (CALTECH, {}, "pagoda", "Tourists watch the sunset from the pier.", ACCEPT),  # verb after a plural subject
    (CALTECH, {}, "pagoda", "They watch the sunset beside an old pagoda.", ACCEPT),  # verb after a pronoun
    (CALTECH, {}, "pagoda", "Visitors come to watch the pagoda at dusk.", ACCEPT),  # "to" + verb
    (CALTECH, {}, "pagoda", "She watches the rain fall on a red pagoda.", ACCEPT),  # pronoun + 3rd person verb
    (CALTECH, {}, "pagoda", "A gold watch lies in front of a pagoda.", "'watch'"),  # the object
    (CALTECH, {}, "pagoda", "A tourist checks his watch by the pagoda.", "'watch'"),  # possessive + noun
    (ANIMALS, {}, "dog", "A dog looks into the camera.", ACCEPT),  # gaze idiom
    (ANIMALS, {}, "dog", "A dog stares straight at the camera in a park.", ACCEPT),
    (ANIMALS, {}, "dog", "A dog poses for the camera.", ACCEPT),
    (ANIMALS, {}, "dog", "A dog sniffs a camera on the floor.", "'camera'"),  # an actual camera
    (ANIMALS, {}, "laptop", "A cup of coffee beside a laptop.", ACCEPT),  # quantity use
    (ANIMALS, {}, "laptop", "Two cups of tea next to an open laptop.", ACCEPT),
    (ANIMALS, {}, "laptop", "A cup of the finest porcelain beside a laptop.", "'cup'"),  # "of the": a cup
    (ANIMALS, {}, "laptop", "An empty cup beside a laptop.", "'cup'"),
    (ANIMALS, {}, "cat", "A cat sitting next to a dog.", "'dog'"),
    (ANIMALS, {}, "cat", "A cat watching two dogs in the yard.", "'dog' (as 'dogs')"),  # plural
    (ANIMALS, {}, "cat", "A cat curled up in a dog bed.", ACCEPT),  # compound: a bed, not a dog
    (ANIMALS, {}, "cat", "A cat flipping through a catalog.", ACCEPT),  # "catalog" is not "cat"
    (ANIMALS, {}, "cat", "A dogma-free cat on a hotdog stand.", ACCEPT),  # names inside other words
    (ANIMALS, {}, "cat", "A cat beside a stone Lo\u0308we.", "'Löwe'"),  # NFD sentence, NFC class name
    (ANIMALS, {}, "Löwe", unicodedata.normalize("NFD", "Ein Löwe im Gras."), ACCEPT),  # own name in NFD
    (CALTECH, {}, "bass", "A musician slaps a bass guitar on stage.", "only in 'bass guitar'"),
    (CALTECH, CALTECH101_LLM_NAMES, "bass", "A musician slaps a bass guitar on stage.", "describe a bass fish"),
    (CALTECH, CALTECH101_LLM_NAMES, "bass", "A bass fish swims past a sunken anchor.", "'anchor'"),
    (CALTECH, CALTECH101_LLM_NAMES, "bass", "A largemouth bass fish leaps from a lake.", ACCEPT),
    (CALTECH, CALTECH101_LLM_NAMES, "bass", "A bass guitar leaning on a bass fish tank.", ACCEPT),  # names the fish
    (CALTECH, CALTECH101_LLM_NAMES, "crab", "A crab scuttles past a bass fish.", "dataset: 'bass fish'"),
    (CALTECH, CALTECH101_LLM_NAMES, "crab", "A crab scuttles past a bass on the reef.", "'bass fish' (as 'bass')"),
    (CALTECH, CALTECH101_LLM_NAMES, "crab", "A crab beside a bass guitar on the sand.", ACCEPT),  # compound
    (CALTECH, CALTECH101_LLM_NAMES, "portrait", "A portrait of a person against a grey wall.", ACCEPT),
    (CALTECH, CALTECH101_LLM_NAMES, "portrait", "A portrait of a person next to a close-up face.",
     "dataset: 'close-up face'"),
    (CALTECH, {}, "butterfly", "Two dragonflies hover over a butterfly.", "'dragonfly' (as 'dragonflies')"),
    (CALTECH, {}, "dragonfly", "A dragonfly resting on water lilies.", "'water lily' (as 'water lilies')"),
    (CALTECH, {}, "dragonfly", "A dragonfly near the water, lilac sky.", ACCEPT),  # "water" alone is no lily
    (CALTECH, {}, "chair", "A chair in a sunflower field.", "'sunflower'"),
    (CALTECH, {}, "anchor", "An anchor beside a wheelchair.", "dataset: 'wheelchair'"),  # and not 'chair'
    (CALTECH, {}, "chair", "A folding chair; no wheelchair in sight.", "'wheelchair'"),
    (CALTECH, {}, "wheelchair", "A wheelchair beside a chair.", "'chair'"),
    (CALTECH, {}, "car side", "A car-side view of a red car side.", ACCEPT),  # hyphen and space read alike
    (CALTECH, {}, "leopard", "A leopard resting on a branch.", ACCEPT),
    (CALTECH, {}, "cellphone", "A cellphone on a leopard print blanket.", ACCEPT),  # compound "leopard print"
    (PETS, {}, "Abyssinian", "An Abyssinian cat beside a great pyrenees.", "'great_pyrenees'"),
    (PETS, {}, "Abyssinian", "An Abyssinian cat beside a Great-Pyrenees.", "'great_pyrenees'"),  # hyphen form
    (PETS, {}, "pug", "A pug in a sweater next to two boxers.", "'boxer' (as 'boxers')"),
    (PETS, {}, "pug", "A pug sleeping in a cardboard box.", ACCEPT),  # "box" is not "boxer"
    (PETS, {}, "Bengal", "A Bengal cat stalking a toy mouse.", ACCEPT),
    (PETS, {}, "english cocker spaniel", "An English cocker spaniel beside an Egyptian Mau.", "'Egyptian_Mau'"),
    (FLOWERS, {}, "fire lily", "A fire lily in bloom.", ACCEPT),  # "lily" is part of the own name
    (FLOWERS, {}, "sunflower", "A sunflower beside a pond of water lilies.", "'water lily' (as 'water lilies')"),
    (FLOWERS, {}, "sweet pea", "A sweet pea climbing a rose trellis.", "'rose'"),  # "trellis" is no compound head
    (FLOWERS, {}, "lotus", "A lotus flower in a pond.", ACCEPT),
    (FLOWERS, {}, "rose", "A rose beside a bird of paradise.", "'bird of paradise'"),
    (FLOWERS, {}, "rose", "A red rose; roses grow along the fence.", ACCEPT),  # own plural
]


@pytest.mark.parametrize(("classes", "llm_names", "own", "sentence", "expected"), ROWS)
def test_validator_table(classes, llm_names, own, sentence, expected):
    problem = ClassNameMatcher(classes, llm_names).problem(sentence, own)
    if expected is ACCEPT:
        assert problem is None, problem
    else:
        assert problem is not None and expected in problem, problem


def test_the_validator_limits_stated_in_its_docstring_hold():
    """The documented limits are real: these readings are wrong, and the docstring says so."""
    assert ClassNameMatcher(CALTECH).problem("Watch the crab scuttle.", "crab") is not None  # imperative
    assert ClassNameMatcher(ANIMALS).problem("A cat next to a hot dog.", "cat") is not None  # fixed expression


def test_the_flag_names_the_class_as_the_llm_was_asked_and_the_words_it_found():
    matcher = ClassNameMatcher(CALTECH, CALTECH101_LLM_NAMES)
    assert matcher.problem("A crab scuttles past a bass fish.", "crab").endswith("dataset: 'bass fish'")
    assert matcher.problem("A crab scuttles past a bass.", "crab").endswith("dataset: 'bass fish' (as 'bass')")
    assert matcher.problem("A crab near a close-up face.", "crab").endswith("dataset: 'close-up face'")

"""DA-Fusion's textual inversion: only the new class tokens train, and learned tokens are saved and reused."""

import pytest
import torch

from dalda.generators import class_tokens as token_store
from dalda.generators.textual_inversion import LearnedToken, placeholder_token
from dalda.generators.class_tokens import ensure_class_tokens
from dalda.configure import build_config, rebuild
from dalda.data.stage import run_data_stage
from dalda.generators.da_fusion import DAFusionSettings
from dalda.models.sd import load_img2img_pipeline
from dalda.pipeline import prepare_run


@pytest.fixture
def setup(tmp_path):
    config = build_config(
        {
            "out_dir": str(tmp_path / "run"),
            "data": {"dataset": "demo", "root": str(tmp_path / "demo"), "shots": 1},
            "models": {"profile": "tiny"},
            "generator": {"name": "da-fusion", "ti_steps": 4, "ti_batch_size": 2, "ti_resolution": 64},
        }
    )
    run = prepare_run(config)
    return config, run, run_data_stage(config, run)


def _pipe(config):
    return load_img2img_pipeline(config.models, DAFusionSettings.of(config.generator).checkpoints())


def _ensure(pipe, config, split, run):
    return ensure_class_tokens(pipe, config, DAFusionSettings.of(config.generator), split, run)


def test_only_new_tokens_train_and_tokens_are_reused(setup, monkeypatch):
    config, run, split = setup
    pipe = _pipe(config)
    vocabulary = len(pipe.tokenizer)
    before = pipe.text_encoder.get_input_embeddings().weight.detach().clone()
    unet_before = {k: v.clone() for k, v in pipe.unet.state_dict().items()}

    tokens = _ensure(pipe, config, split, run)

    assert tokens == {name: placeholder_token(name) for name in split.classes}
    after = pipe.text_encoder.get_input_embeddings().weight.detach()
    assert torch.equal(after[:vocabulary], before)  # every existing token untouched
    new_ids = pipe.tokenizer.convert_tokens_to_ids(list(tokens.values()))
    assert sorted(new_ids) == list(range(vocabulary, vocabulary + len(split.classes)))
    assert all(torch.equal(v, pipe.unet.state_dict()[k]) for k, v in unet_before.items())
    saved = sorted(path.name for path in run.textual_inversion.iterdir())
    assert saved == sorted(f"{token.strip('<>')}.safetensors" for token in tokens.values())
    # the tokenised prompt really uses the new token as one id
    ids = pipe.tokenizer(f"a photo of a {tokens['circle']}", add_special_tokens=False).input_ids
    assert pipe.tokenizer.convert_tokens_to_ids(tokens["circle"]) in ids

    # a second pipeline reuses the saved tokens without training, and gets the same vectors
    monkeypatch.setattr(token_store, "learn_class_token", lambda *a, **k: pytest.fail("retrained a saved token"))
    second = _pipe(config)
    _ensure(second, config, split, run)
    second_rows = second.text_encoder.get_input_embeddings().weight[new_ids]
    assert torch.equal(second_rows, after[new_ids])


def test_learning_moves_the_token_away_from_its_initialisation(setup):
    config, run, split = setup
    untrained = _pipe(config)
    from dalda.generators.textual_inversion import add_placeholder_tokens

    add_placeholder_tokens(untrained.tokenizer, untrained.text_encoder, split.classes, config.generator.ti_init_word)
    initial = untrained.text_encoder.get_input_embeddings().weight[-len(split.classes):].detach().clone()
    pipe = _pipe(config)
    _ensure(pipe, config, split, run)
    learned = pipe.text_encoder.get_input_embeddings().weight[-len(split.classes):].detach()
    assert not torch.allclose(learned, initial)
    assert torch.isfinite(learned).all()


def test_tokens_start_from_the_word_the_by_default_as_in_the_da_fusion_code_base(setup, monkeypatch):
    config, run, split = setup
    assert config.generator.ti_init_word == "the"
    starts = {}

    def record_start(pipe, class_name, images, cfg, seed, progress=None):
        token_id = pipe.tokenizer.convert_tokens_to_ids(placeholder_token(class_name))
        start = pipe.text_encoder.get_input_embeddings().weight[token_id].detach().clone()
        starts[class_name] = start
        return LearnedToken(class_name, placeholder_token(class_name), start, 0.0)

    monkeypatch.setattr(token_store, "learn_class_token", record_start)
    pipe = _pipe(config)
    _ensure(pipe, config, split, run)
    weights = pipe.text_encoder.get_input_embeddings().weight
    the = weights[pipe.tokenizer("the", add_special_tokens=False).input_ids].mean(dim=0)
    assert set(starts) == set(split.classes)
    assert all(torch.equal(start, the) for start in starts.values())

    # generator.ti_init_word=null: the class name's own tokens, and the tokens are relearned (new fingerprint)
    by_name = rebuild(config, {"generator": {"ti_init_word": None}})
    starts.clear()
    _ensure(_pipe(config), by_name, split, run)
    circle = weights[pipe.tokenizer("circle", add_special_tokens=False).input_ids].mean(dim=0)
    assert torch.equal(starts["circle"], circle) and not torch.equal(circle, the)


def test_class_names_that_slug_alike_or_are_long_get_their_own_token_and_file(setup):
    config, run, _ = setup
    names = ["猫", "犬", "a b", "a-b", "A-B", "x" * 240, "tabby"]
    tokens = [placeholder_token(name) for name in names]
    assert len(set(tokens)) == len(names) and tokens[-1] == "<dalda-tabby>"
    paths = [token_store._token_path(run, name) for name in names]
    assert len(set(paths)) == len(names) and max(len(path.name) for path in paths) < 100
    pipe = _pipe(config)
    from dalda.generators.textual_inversion import add_placeholder_tokens

    ids = add_placeholder_tokens(pipe.tokenizer, pipe.text_encoder, names)
    assert len(set(ids)) == len(names)
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")  # every name is a valid file name on disk


def test_the_same_seed_learns_the_same_token(setup):
    from dalda.generators.textual_inversion import add_placeholder_tokens, learn_class_token
    from PIL import Image

    config, run, split = setup
    images = [Image.open(record.path).convert("RGB") for record in split.train if record.label == 0]
    learned = []
    for _ in range(2):
        pipe = _pipe(config)
        add_placeholder_tokens(pipe.tokenizer, pipe.text_encoder, split.classes[:1])
        torch.manual_seed(len(learned))  # the global RNG differs between the two runs; the result must not
        settings = DAFusionSettings.of(config.generator)
        learned.append(learn_class_token(pipe, split.classes[0], images, settings, seed=7).embedding)
    assert torch.equal(learned[0], learned[1])


def test_each_trial_learns_its_tokens_from_its_own_seed(setup, monkeypatch):
    from dalda.seeds import trial_seed

    config, run, split = setup
    seeds: dict[int, dict[str, int]] = {}

    def record_seed(pipe, class_name, images, cfg, seed, progress=None):
        seeds.setdefault(trial, {})[class_name] = seed
        token_id = pipe.tokenizer.convert_tokens_to_ids(placeholder_token(class_name))
        start = pipe.text_encoder.get_input_embeddings().weight[token_id].detach().clone()
        return LearnedToken(class_name, placeholder_token(class_name), start, 0.0)

    monkeypatch.setattr(token_store, "learn_class_token", record_seed)
    settings = DAFusionSettings.of(config.generator)
    fingerprints = {}
    for trial in (0, 1):
        # the same shots under another trial number: only the seed may tell the two trials' tokens apart
        trial_config = rebuild(config, {"data": {"trial": trial}})
        fingerprints[trial] = token_store.class_fingerprints(trial_config, settings, split)
        _ensure(_pipe(config), trial_config, split, run)
    assert seeds[0] == {name: config.seed + label for label, name in enumerate(split.classes)}  # as before
    assert seeds[1] == {name: trial_seed(config.seed, 1) + label for label, name in enumerate(split.classes)}
    assert set(seeds[0].values()).isdisjoint(seeds[1].values())
    assert all(fingerprints[0][name] != fingerprints[1][name] for name in split.classes)  # no token reused


def test_authors_squash_the_training_images_whole_and_fast_crops_them(setup, monkeypatch):
    from PIL import Image

    from dalda.generators.textual_inversion import squash

    config, run, split = setup
    seen: dict[str, list[tuple[int, int]]] = {}

    def record_images(pipe, class_name, images, cfg, seed, progress=None):
        seen.setdefault(protocol, []).extend(image.size for image in images)
        token_id = pipe.tokenizer.convert_tokens_to_ids(placeholder_token(class_name))
        start = pipe.text_encoder.get_input_embeddings().weight[token_id].detach().clone()
        return LearnedToken(class_name, placeholder_token(class_name), start, 0.0)

    monkeypatch.setattr(token_store, "learn_class_token", record_images)
    for protocol in ("authors", "fast"):
        # 32 px tokens from the demo's 64 px shots: a squashed image arrives at 32 x 32, a cropped one as it is
        chosen = rebuild(config, {"train": {"protocol": protocol}, "generator": {"ti_resolution": 32}})
        _ensure(_pipe(chosen), chosen, split, run)
    assert set(seen["authors"]) == {(32, 32)} and set(seen["fast"]) == {(64, 64)}
    wide = Image.new("RGB", (40, 10), "red")
    wide.paste(Image.new("RGB", (10, 10), "blue"), (0, 0))
    squashed = squash(wide, 8)
    assert squashed.size == (8, 8) and squashed.getpixel((0, 4))[2] > 200  # the left edge kept, nothing cropped


def test_squashing_changes_the_fingerprint_and_keeps_the_images_in_it(setup):
    config, _, split = setup
    settings = DAFusionSettings.of(config.generator)
    prints = {
        protocol: token_store.class_fingerprints(rebuild(config, {"train": {"protocol": protocol}}), settings, split)
        for protocol in ("authors", "fast")
    }
    assert all(prints["authors"][name] != prints["fast"][name] for name in split.classes)
    # the shots' hashes still count under authors: other shots, other fingerprint
    other = split.__class__(**{**split.__dict__, "train": list(reversed(split.train))[:1]})
    authors = rebuild(config, {"train": {"protocol": "authors"}})
    changed = token_store.class_fingerprints(authors, settings, other)
    assert any(changed[name] != prints["authors"][name] for name in split.classes)

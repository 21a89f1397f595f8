"""The model loaders: every profile's models build offline, run, and load through the same code paths."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from dalda.config import ModelsConfig
from dalda.generators.settings import IPAdapterSettings
from dalda.models import (
    img2img_pipeline_from,
    load_clip,
    load_img2img_pipeline,
    load_lpips,
    load_resnet50_backbone,
    load_sd_ip_adapter_pipeline,
    resolve_device,
    resolve_dtype,
)
from dalda.models.hub import ModelLoadError
from dalda.models.tokenizer import CONTEXT_LENGTH, build_byte_level_tokenizer
from tiny_checkpoints import write_tiny_checkpoints

TINY = ModelsConfig(profile="tiny", device="cpu")
CHECKPOINTS = IPAdapterSettings().checkpoints()  # the ip-adapter generator's defaults (unread by the tiny profile)


def _image(seed: int, size: tuple[int, int] = (48, 40), mode: str = "RGB") -> Image.Image:
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    return Image.fromarray(pixels).convert(mode)


def _generate(pipe, scale: float, steps: int = 2) -> np.ndarray:
    pipe.set_ip_adapter_scale(scale)
    return pipe(
        "a photo of a cat",
        ip_adapter_image=_image(0),
        num_inference_steps=steps,
        height=64,
        width=64,
        generator=torch.Generator().manual_seed(0),
        output_type="np",
    ).images[0]


def _same_weights(first: torch.nn.Module, second: torch.nn.Module) -> bool:
    a, b = first.state_dict(), second.state_dict()
    return a.keys() == b.keys() and all(torch.equal(a[key], b[key]) for key in a)


@pytest.fixture(scope="module")
def pipe():
    return load_sd_ip_adapter_pipeline(TINY, CHECKPOINTS)


@pytest.fixture(scope="module")
def clip():
    return load_clip(TINY)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """(models config, generator settings) naming tiny checkpoints in the published layouts, offline."""
    models, settings = write_tiny_checkpoints(tmp_path_factory.mktemp("checkpoints"))
    return models.model_copy(update={"offline": True}), settings


# --------------------------------------------------------------------------------------------- device, dtype


def test_device_and_dtype_auto_and_overrides():
    auto = resolve_device(ModelsConfig(profile="tiny"))
    assert auto.type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_dtype(ModelsConfig(), torch.device("cpu")) == torch.float32
    assert resolve_dtype(ModelsConfig(), torch.device("cuda")) == torch.float16
    assert resolve_device(ModelsConfig(device="cpu")) == torch.device("cpu")
    assert resolve_dtype(ModelsConfig(dtype="bfloat16"), torch.device("cpu")) == torch.bfloat16
    assert resolve_dtype(ModelsConfig(dtype="float32"), torch.device("cuda")) == torch.float32
    with pytest.raises(ValueError, match="models.device='gpu0'"):
        resolve_device(ModelsConfig(device="gpu0"))


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_requested_without_cuda_is_a_clear_error():
    with pytest.raises(ValueError, match="CUDA is not available"):
        resolve_device(ModelsConfig(device="cuda"))


def test_models_land_on_the_requested_dtype():
    backbone = load_resnet50_backbone(ModelsConfig(profile="tiny", device="cpu", dtype="bfloat16"))
    assert {p.dtype for p in backbone.module.parameters()} == {torch.bfloat16}


# ------------------------------------------------------------------------------------------------- tokenizer


@pytest.mark.parametrize(
    "text",
    [
        "a photo of the cat",
        "",
        "Ünïcödé ✓ 猫 🐱 — «quotes» & <tags> {json: 1}!?",
        "\t\n  spaces  ",
        "word " * 300,
    ],
)
def test_tokenizer_handles_any_text(text):
    tokenizer = build_byte_level_tokenizer()
    ids = tokenizer(text, truncation=True, max_length=CONTEXT_LENGTH)["input_ids"]
    assert 2 <= len(ids) <= CONTEXT_LENGTH
    assert ids[0] == tokenizer.bos_token_id and ids[-1] == tokenizer.eos_token_id
    assert tokenizer.eos_token_id not in ids[1:-1]  # the unknown token is EOS: nothing inside may be unknown
    if len(text) < 60:  # every character survives (CLIP's decoder puts spaces between pre-tokens)
        assert tokenizer.decode(ids, skip_special_tokens=True).replace(" ", "") == "".join(text.lower().split())


def test_tokenizer_applies_merges_and_pads_to_real_vocab():
    small = build_byte_level_tokenizer()
    assert small.tokenize("a photo of the") == ["a</w>", "photo</w>", "of</w>", "the</w>"]
    full = build_byte_level_tokenizer(49408)
    assert len(full) == 49408 and full.eos_token_id == 49407 and full.bos_token_id == 49406
    assert full("über")["input_ids"][1:-1] == small("über")["input_ids"][1:-1]


# ------------------------------------------------------------------------------------------------------ CLIP


def test_clip_bundle_encodes_unit_norm_float32(clip):
    images = [_image(1), _image(2, (20, 70)), _image(3, mode="L"), _image(4, mode="RGBA")]
    image_embeds = clip.encode_images(images)
    text_embeds = clip.encode_texts(["a photo of a dog", "x", "a very long prompt, " * 100])
    for embeds, count in ((image_embeds, 4), (text_embeds, 3)):
        assert embeds.shape == (count, clip.embed_dim) and embeds.dtype == torch.float32
        assert embeds.device.type == "cpu"
        torch.testing.assert_close(embeds.norm(dim=-1), torch.ones(count))
    assert not torch.allclose(image_embeds[0], image_embeds[1])
    assert clip.logit_scale == pytest.approx(float(clip.model.logit_scale.exp()))
    assert clip.encode_images([]).shape == (0, clip.embed_dim)
    pixels = clip.image_processor(images=images[:2], return_tensors="pt")["pixel_values"]
    torch.testing.assert_close(clip.encode_pixels(pixels), image_embeds[:2])


def test_clip_batching_does_not_change_embeddings(clip):
    images = [_image(seed) for seed in range(5)]
    texts = ["a", "a photo of a cat", "two dogs on grass"]
    batched_images, batched_texts = clip.encode_images(images), clip.encode_texts(texts)
    single = load_clip(TINY)
    single.batch_size = 2
    torch.testing.assert_close(single.encode_images(images), batched_images, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(single.encode_texts(texts), batched_texts, rtol=1e-4, atol=1e-5)


# -------------------------------------------------------------------------------------- SD + IP-Adapter


def test_sd_ip_adapter_pipeline_is_assembled_as_specified(pipe):
    from diffusers import DDIMScheduler
    from transformers import CLIPImageProcessor, CLIPVisionModelWithProjection

    assert isinstance(pipe.scheduler, DDIMScheduler)
    settings = pipe.scheduler.config
    assert (settings.beta_start, settings.beta_end, settings.beta_schedule) == (0.00085, 0.012, "scaled_linear")
    assert (settings.clip_sample, settings.set_alpha_to_one, settings.steps_offset) == (False, False, 1)
    assert pipe.safety_checker is None
    assert isinstance(pipe.image_encoder, CLIPVisionModelWithProjection)
    assert isinstance(pipe.feature_extractor, CLIPImageProcessor)
    assert pipe.feature_extractor.crop_size["height"] == pipe.image_encoder.config.image_size
    processors = {type(p).__name__ for name, p in pipe.unet.attn_processors.items() if "attn2" in name}
    assert processors == {"IPAdapterAttnProcessor2_0"}
    for module in (pipe.unet, pipe.vae, pipe.text_encoder, pipe.image_encoder):
        assert not module.training and not any(p.requires_grad for p in module.parameters())


def test_ip_adapter_generates_and_scale_changes_the_image(pipe):
    low, mid, high = (_generate(pipe, scale) for scale in (0.0, 0.5, 1.0))
    assert low.shape == (64, 64, 3)
    assert np.abs(low - mid).max() > 1e-3 and np.abs(mid - high).max() > 1e-3
    np.testing.assert_array_equal(_generate(pipe, 0.5), mid)
    pipe.set_ip_adapter_scale(0.5)
    image = pipe("a dog", ip_adapter_image=_image(5), num_inference_steps=2, height=64, width=64).images[0]
    assert isinstance(image, Image.Image) and image.size == (64, 64)


def test_tiny_builds_are_deterministic_and_leave_global_rng_alone(pipe, clip):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    again = load_sd_ip_adapter_pipeline(TINY, CHECKPOINTS)
    assert torch.equal(torch.rand(3), expected)
    for name in ("unet", "vae", "text_encoder", "image_encoder"):
        assert _same_weights(getattr(pipe, name), getattr(again, name)), name
    assert _same_weights(clip.model, load_clip(TINY).model)
    assert _same_weights(load_resnet50_backbone(TINY).module, load_resnet50_backbone(TINY).module)
    assert _same_weights(load_lpips(TINY), load_lpips(TINY))


def test_img2img_reuses_base_components_and_leaves_base_working(pipe):
    before = _generate(pipe, 0.5)
    img2img = img2img_pipeline_from(pipe)
    assert img2img.vae is pipe.vae and img2img.text_encoder is pipe.text_encoder
    assert img2img.tokenizer is pipe.tokenizer
    base_weights = dict(pipe.unet.named_parameters())
    shared = dict(img2img.unet.named_parameters())
    assert shared and all(base_weights[name] is weight for name, weight in shared.items())
    assert img2img.unet.encoder_hid_proj is None
    assert img2img.scheduler is not pipe.scheduler and img2img.scheduler.config == pipe.scheduler.config
    out = img2img(
        "a photo of a cat", image=_image(6, (64, 64)), strength=0.5, num_inference_steps=4, guidance_scale=7.5
    ).images[0]
    assert isinstance(out, Image.Image) and out.size == (64, 64)
    np.testing.assert_array_equal(_generate(pipe, 0.5), before)


def test_img2img_without_base_builds_its_own():
    img2img = load_img2img_pipeline(TINY, CHECKPOINTS)
    assert img2img.unet.encoder_hid_proj is None
    out = img2img("a cat", image=_image(7, (64, 64)), strength=0.75, num_inference_steps=2).images[0]
    assert out.size == (64, 64)


# ------------------------------------------------------------------------------------------ backbone, LPIPS


def test_tiny_backbone_and_lpips_run():
    backbone = load_resnet50_backbone(TINY)
    features = backbone.module(torch.randn(2, 3, backbone.image_size, backbone.image_size))
    assert features.shape == (2, backbone.feature_dim)
    assert backbone.mean == (0.485, 0.456, 0.406) and backbone.std == (0.229, 0.224, 0.225)
    lpips_model = load_lpips(TINY)
    a, b = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        assert torch.all(lpips_model(a, b) > 0)
        torch.testing.assert_close(lpips_model(a, a).flatten(), torch.zeros(2))


# ------------------------------------------------------------------------------------------ "real" path


def test_real_profile_loads_local_folders_like_the_published_layout(checkpoints, pipe, clip):
    models, settings = checkpoints
    loaded = load_sd_ip_adapter_pipeline(models, settings.checkpoints())
    for name in ("unet", "vae", "text_encoder", "image_encoder"):
        assert _same_weights(getattr(loaded, name), getattr(pipe, name)), name
    np.testing.assert_allclose(_generate(loaded, 0.5), _generate(pipe, 0.5), atol=1e-5)
    real_clip = load_clip(models)
    texts = ["a photo of a cat", "Ünïcödé!"]
    torch.testing.assert_close(real_clip.encode_texts(texts), clip.encode_texts(texts))
    torch.testing.assert_close(real_clip.encode_images([_image(8)]), clip.encode_images([_image(8)]))
    sd_vae = load_img2img_pipeline(models, settings.model_copy(update={"vae": None}).checkpoints())
    assert _same_weights(sd_vae.vae, pipe.vae)


def test_real_profile_reads_safetensors_ip_adapter(tmp_path, pipe):
    models, settings = write_tiny_checkpoints(tmp_path, ip_adapter_format="safetensors")
    loaded = load_sd_ip_adapter_pipeline(models.model_copy(update={"offline": True}), settings.checkpoints())
    assert _same_weights(loaded.unet, pipe.unet)


@pytest.mark.parametrize(
    ("update", "field"),
    [
        ({"sd_model": "/no/such/folder/sd"}, "generator.sd_model"),
        ({"vae": "./no-such-vae"}, "generator.vae"),
        ({"clip_model": "dalda-tests/not-a-model"}, "models.clip_model"),
        ({"ip_adapter_weight": "missing.bin"}, "generator.ip_adapter_repo"),
        ({"image_encoder_subfolder": "models/nothing"}, "generator.ip_adapter_repo"),
    ],
)
def test_missing_checkpoints_give_a_clear_error(checkpoints, update, field):
    """The generator's checkpoints are its own settings (``generator.*``); CLIP is shared (``models.*``)."""
    models, settings = checkpoints
    with pytest.raises(ModelLoadError) as caught:
        if field == "models.clip_model":
            load_clip(models.model_copy(update=update))
        else:
            load_sd_ip_adapter_pipeline(models, settings.model_copy(update=update).checkpoints())
    message = str(caught.value)
    assert field in message and "models.profile=tiny" in message and "local folder" in message


# -------------------------------------------------------------------------------------------- full-random


def test_full_random_has_the_published_architectures():
    """Built on the meta device: shapes and parameter counts without allocating or computing anything."""
    from dalda.models.clip import build_clip
    from dalda.models.ip_adapter import build_image_encoder, build_ip_adapter_state_dict
    from dalda.models.resnet50 import build_backbone
    from dalda.models.sd import build_sd_parts

    FULL_RANDOM = "full-random"

    def millions(module: torch.nn.Module) -> float:
        return round(sum(p.numel() for p in module.parameters()) / 1e6, 2)

    with torch.device("meta"):
        parts = build_sd_parts(FULL_RANDOM)
        image_encoder = build_image_encoder(FULL_RANDOM)
        clip_model, tokenizer, processor = build_clip(FULL_RANDOM)
        backbone, feature_dim, image_size = build_backbone(FULL_RANDOM)
    assert millions(parts["unet"]) == 859.52  # SD v1.x UNet
    assert millions(parts["vae"]) == 83.65
    assert millions(parts["text_encoder"]) == 123.06  # CLIP ViT-L/14 text tower
    assert millions(image_encoder) == 632.08  # OpenCLIP ViT-H/14, as h94/IP-Adapter's model card states
    assert millions(clip_model) == 149.62  # CLIP ViT-B/16
    assert (millions(backbone), feature_dim, image_size) == (23.51, 2048, 224)  # ResNet50 minus its fc layer
    assert len(tokenizer) == 49408 and processor.crop_size["height"] == 224
    ip_adapter = build_ip_adapter_state_dict(parts["unet"], image_encoder.config.projection_dim, FULL_RANDOM)
    assert ip_adapter["image_proj"]["proj.weight"].shape == (4 * 768, 1024)
    assert len(ip_adapter["ip_adapter"]) == 32  # to_k_ip/to_v_ip for 16 cross-attention layers
    total = sum(t.numel() for group in ip_adapter.values() for t in group.values())
    assert round(total / 1e6, 1) == 22.3  # "only 22M parameters" (IP-Adapter paper)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_auto_profile_runs_half_precision_on_cuda():
    cfg = ModelsConfig(profile="tiny")
    gpu_pipe = load_sd_ip_adapter_pipeline(cfg, CHECKPOINTS)
    assert gpu_pipe.unet.device.type == "cuda" and gpu_pipe.unet.dtype == torch.float16
    assert np.isfinite(_generate(gpu_pipe, 0.5)).all()
    embeds = load_clip(cfg).encode_images([_image(9)])
    assert embeds.dtype == torch.float32 and torch.isfinite(embeds).all()

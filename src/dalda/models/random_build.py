"""Random-weight models from a ``RandomArchitecture``, built offline and deterministically.

Every component is built under its own fixed seed inside ``torch.random.fork_rng``, so two builds give
identical weights whatever was built before and the caller's global random state is left untouched.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import torch

from dalda.extras import require
from dalda.models.architectures import RandomArchitecture
from dalda.models.tokenizer import build_byte_level_tokenizer, build_wordpiece_tokenizer

# Per-component seed offsets: each part's weights depend only on the architecture's seed and the part.
_SEEDS = {
    "unet": 1,
    "vae": 2,
    "text_encoder": 3,
    "image_encoder": 4,
    "ip_adapter": 5,
    "clip": 6,
    "backbone": 7,
    "lpips": 8,
    "siglip": 9,
    "blip_vqa": 10,
    "ip_adapter_plus": 11,
    "sdxl_unet": 12,
    "sdxl_vae": 13,
    "sdxl_text_encoder": 14,
    "sdxl_text_encoder_2": 15,
    "sdxl_ip_adapter": 16,
}


@contextmanager
def seeded(arch: RandomArchitecture, part: str) -> Iterator[None]:
    """Run the body with torch's CPU generator seeded for ``part``, restoring the outer state afterwards.

    Only the CPU generator is touched (models are initialised on the CPU), so CUDA random state is untouched.
    """
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(arch.seed * 100 + _SEEDS[part])
        yield


def build_sd_parts(arch: RandomArchitecture) -> dict[str, object]:
    """Stable Diffusion's UNet, VAE, text encoder and tokenizer (keyword names of the diffusers pipelines)."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    tokenizer = build_byte_level_tokenizer(arch.tokenizer_vocab_size)
    with seeded(arch, "unet"):
        unet = UNet2DConditionModel(**arch.unet)
    with seeded(arch, "vae"):
        vae = AutoencoderKL(**arch.vae)
    with seeded(arch, "text_encoder"):
        text_encoder = CLIPTextModel(CLIPTextConfig(**arch.text_encoder, **_special_ids(tokenizer)))
    return {"unet": unet, "vae": vae, "text_encoder": text_encoder, "tokenizer": tokenizer}


def _special_ids(tokenizer) -> dict[str, int]:
    """The tokenizer's special-token ids, so the text model pools at the real end-of-text token."""
    return {
        "vocab_size": len(tokenizer),
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }


def build_image_encoder(arch: RandomArchitecture):
    """The IP-Adapter's image encoder (``CLIPVisionModelWithProjection``)."""
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    with seeded(arch, "image_encoder"):
        return CLIPVisionModelWithProjection(CLIPVisionConfig(**arch.image_encoder))


def build_ip_adapter_state_dict(
    unet, image_embed_dim: int, arch: RandomArchitecture
) -> dict[str, dict[str, torch.Tensor]]:
    """Random IP-Adapter weights in the published checkpoint's layout, shaped for ``unet``.

    ``image_proj`` maps one image embedding to ``ip_adapter_tokens`` context tokens (Linear + LayerNorm);
    ``ip_adapter`` holds the extra key/value projections of every cross-attention layer, numbered 1, 3, 5, ...
    in the UNet's attention-processor order, as the checkpoint (and diffusers' loader) number them.
    """
    context_dim = int(unet.config.cross_attention_dim)
    tokens = arch.ip_adapter_tokens
    with seeded(arch, "ip_adapter"):
        proj = torch.nn.Linear(image_embed_dim, tokens * context_dim)
        image_proj = {
            "proj.weight": proj.weight.detach().clone(),
            "proj.bias": proj.bias.detach().clone(),
            "norm.weight": torch.ones(context_dim),
            "norm.bias": torch.zeros(context_dim),
        }
        ip_adapter = _ip_attention_weights(unet, context_dim)
    return {"image_proj": image_proj, "ip_adapter": ip_adapter}


def _ip_attention_weights(unet, context_dim: int) -> dict[str, torch.Tensor]:
    """Random ``to_k_ip``/``to_v_ip`` of every cross-attention layer, keyed as the published checkpoints are."""
    ip_adapter: dict[str, torch.Tensor] = {}
    cross_attention = [name for name in unet.attn_processors if not name.endswith("attn1.processor")]
    for index, name in enumerate(cross_attention):
        attention = unet.get_submodule(name.removesuffix(".processor"))
        hidden = attention.to_k.out_features
        for kind in ("to_k_ip", "to_v_ip"):
            weight = torch.nn.Linear(context_dim, hidden, bias=False).weight.detach().clone()
            ip_adapter[f"{2 * index + 1}.{kind}.weight"] = weight
    return ip_adapter


def build_ip_adapter_plus_state_dict(
    unet, image_hidden_dim: int, arch: RandomArchitecture
) -> dict[str, dict[str, torch.Tensor]]:
    """Random IP-Adapter Plus weights in the published ``ip-adapter-plus_sd15`` layout, shaped for ``unet``.

    ``image_proj`` is the Perceiver resampler that turns the image encoder's patch tokens (its penultimate
    hidden states, ``image_hidden_dim`` wide) into ``num_queries`` context tokens: built as diffusers'
    ``IPAdapterPlusImageProjection`` and renamed back to the original ``Resampler``'s keys (each layer's
    attention is ``layers.i.0`` with one fused ``to_kv``, its feed-forward ``layers.i.1``), which is the form
    diffusers' loader reads from the published file.
    """
    from diffusers.models.embeddings import IPAdapterPlusImageProjection

    shape = _needs(arch, "ip_adapter_plus")
    context_dim = int(unet.config.cross_attention_dim)
    with seeded(arch, "ip_adapter_plus"):
        resampler = IPAdapterPlusImageProjection(
            embed_dims=image_hidden_dim,
            output_dims=context_dim,
            hidden_dims=int(shape["hidden_dims"]),
            heads=int(shape["heads"]),
            num_queries=int(shape["num_queries"]),
        )
        image_proj = _resampler_to_published(resampler.state_dict())
        ip_adapter = _ip_attention_weights(unet, context_dim)
    return {"image_proj": image_proj, "ip_adapter": ip_adapter}


def _resampler_to_published(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """diffusers' ``IPAdapterPlusImageProjection`` keys -> the original IP-Adapter ``Resampler`` keys."""
    renamed = {
        "ln0": "0.norm1",
        "ln1": "0.norm2",
        "attn.to_q": "0.to_q",
        "attn.to_out.0": "0.to_out",
        "ff.0": "1.0",
        "ff.1.net.0.proj": "1.1",
        "ff.1.net.2": "1.3",
    }
    published: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if not key.startswith("layers."):
            published[key] = value.detach().clone()
            continue
        _, index, rest = key.split(".", 2)
        module, leaf = rest.rsplit(".", 1)
        if module == "attn.to_v":
            continue  # fused into to_kv with to_k below
        if module == "attn.to_k":
            fused = torch.cat([value, state[f"layers.{index}.attn.to_v.{leaf}"]])
            published[f"layers.{index}.0.to_kv.{leaf}"] = fused.detach().clone()
            continue
        published[f"layers.{index}.{renamed[module]}.{leaf}"] = value.detach().clone()
    return published


def build_sdxl_parts(arch: RandomArchitecture) -> dict[str, object]:
    """SDXL's UNet, VAE, two text encoders and their tokenizers (keyword names of diffusers' SDXL pipelines)."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    shape = _needs(arch, "sdxl")
    tokenizer = build_byte_level_tokenizer(arch.tokenizer_vocab_size)
    tokenizer_2 = build_byte_level_tokenizer(arch.tokenizer_vocab_size)
    with seeded(arch, "sdxl_unet"):
        unet = UNet2DConditionModel(**shape["unet"])
    with seeded(arch, "sdxl_vae"):
        vae = AutoencoderKL(**shape["vae"])
    with seeded(arch, "sdxl_text_encoder"):
        text_encoder = CLIPTextModel(CLIPTextConfig(**shape["text_encoder"], **_special_ids(tokenizer)))
    with seeded(arch, "sdxl_text_encoder_2"):
        text_encoder_2 = CLIPTextModelWithProjection(
            CLIPTextConfig(**shape["text_encoder_2"], **_special_ids(tokenizer_2))
        )
    return {
        "unet": unet,
        "vae": vae,
        "text_encoder": text_encoder,
        "text_encoder_2": text_encoder_2,
        "tokenizer": tokenizer,
        "tokenizer_2": tokenizer_2,
    }


def build_sdxl_ip_adapter_state_dict(
    unet, image_embed_dim: int, arch: RandomArchitecture
) -> dict[str, dict[str, torch.Tensor]]:
    """Random weights in the published ``ip-adapter_sdxl_vit-h`` layout: one pooled image embedding projected
    to ``ip_adapter_tokens`` tokens of SDXL's 2048-wide (tiny: 64) cross-attention, plus every layer's
    ``to_k_ip``/``to_v_ip``."""
    shape = _needs(arch, "sdxl")
    context_dim = int(unet.config.cross_attention_dim)
    tokens = int(shape["ip_adapter_tokens"])
    with seeded(arch, "sdxl_ip_adapter"):
        proj = torch.nn.Linear(image_embed_dim, tokens * context_dim)
        image_proj = {
            "proj.weight": proj.weight.detach().clone(),
            "proj.bias": proj.bias.detach().clone(),
            "norm.weight": torch.ones(context_dim),
            "norm.bias": torch.zeros(context_dim),
        }
        ip_adapter = _ip_attention_weights(unet, context_dim)
    return {"image_proj": image_proj, "ip_adapter": ip_adapter}


def build_clip(arch: RandomArchitecture):
    """A CLIP model (text + vision + projections), its tokenizer and an image processor at its resolution."""
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

    tokenizer = build_byte_level_tokenizer(arch.tokenizer_vocab_size)
    config = CLIPConfig(
        text_config={**arch.clip_text, **_special_ids(tokenizer)},
        vision_config=arch.clip_vision,
        projection_dim=arch.clip_projection_dim,
    )
    with seeded(arch, "clip"):
        model = CLIPModel(config)
    size = int(arch.clip_vision["image_size"])
    processor = CLIPImageProcessor(size={"shortest_edge": size}, crop_size={"height": size, "width": size})
    return model, tokenizer, processor


def build_backbone(arch: RandomArchitecture) -> tuple[torch.nn.Module, int, int]:
    """A torchvision ResNet without its classification layer: (module, feature_dim, image_size)."""
    from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

    block = BasicBlock if arch.backbone_block == "basic" else Bottleneck
    with seeded(arch, "backbone"):
        module = ResNet(block, list(arch.backbone_layers))
    feature_dim = module.fc.in_features
    module.fc = torch.nn.Identity()
    return module, feature_dim, arch.backbone_image_size


def build_lpips(arch: RandomArchitecture):
    """LPIPS with a random AlexNet trunk (offline) and the package's own calibrated linear heads."""
    lpips = require("lpips", "eval", "evaluate.lpips=true (the LPIPS diversity metric)")

    with seeded(arch, "lpips"), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*(pretrained|weight enum).*", category=UserWarning)
        return lpips.LPIPS(net="alex", pnet_rand=True, verbose=False)


def _needs(arch: RandomArchitecture, part: str) -> dict:
    shape = getattr(arch, part)
    if shape is None:
        raise ValueError(f"models.profile={arch.name!r} defines no {part} model; use models.profile=tiny or real")
    return shape


def build_siglip(arch: RandomArchitecture):
    """SigLIP (text + vision towers), a byte-level tokenizer and an image processor at the vision tower's size."""
    from transformers import SiglipConfig, SiglipImageProcessor, SiglipModel

    shape = _needs(arch, "siglip")
    tokenizer = build_byte_level_tokenizer(arch.tokenizer_vocab_size)
    text = {**shape["text_config"]}
    # the offline tokenizer's ids must fit the embedding table (full-random: 49 408 byte-level ids > SigLIP's 32 000)
    text["vocab_size"] = max(len(tokenizer), int(text.get("vocab_size", 0)))
    text.update({key: value for key, value in _special_ids(tokenizer).items() if key != "vocab_size"})
    config = SiglipConfig(text_config=text, vision_config=shape["vision_config"])
    with seeded(arch, "siglip"):
        model = SiglipModel(config)
    size = int(config.vision_config.image_size)
    processor = SiglipImageProcessor(size={"height": size, "width": size})
    return model, tokenizer, processor


def build_blip_vqa(arch: RandomArchitecture):
    """BLIP for visual question answering and its processor (an offline BERT tokenizer + image processor)."""
    from transformers import BlipConfig, BlipForQuestionAnswering, BlipImageProcessor, BlipProcessor

    shape = _needs(arch, "blip_vqa")
    tokenizer = build_wordpiece_tokenizer()
    text = {
        "vocab_size": len(tokenizer),
        **shape["text_config"],
        "pad_token_id": tokenizer.pad_token_id,
        "bos_token_id": tokenizer.bos_token_id,
        "sep_token_id": tokenizer.sep_token_id,
        "eos_token_id": tokenizer.sep_token_id,
    }
    config = BlipConfig(text_config=text, vision_config=shape["vision_config"])
    with seeded(arch, "blip_vqa"):
        model = BlipForQuestionAnswering(config)
    size = int(config.vision_config.image_size)
    image_processor = BlipImageProcessor(size={"height": size, "width": size})
    processor = BlipProcessor(image_processor=image_processor, tokenizer=tokenizer)
    return model, processor

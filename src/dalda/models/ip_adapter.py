"""IP-Adapter, shared by SD 1.x (``sd.py``) and SDXL (``sdxl.py``): its CLIP image encoder and its weights.

``real``: the image encoder from the IP-Adapter repository's encoder folder, the weights through diffusers' own
IP-Adapter loader. The random profiles build the encoder at the profile's shape and the weights as random
tensors in the published checkpoints' layouts (plain ``ip-adapter_sd15``, Plus ``ip-adapter-plus_sd15``,
``ip-adapter_sdxl_vit-h``), shaped for the pipeline's UNet, and hand them to that same diffusers loader, so the
tests exercise the loading code the published files go through.

Shapes: ``full-random`` is the published encoder, OpenCLIP ViT-H/14's vision tower (632 M parameters, 1024-d
projection), with the published adapters' token counts; ``tiny`` is a 32 px, 32-wide encoder.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import torch

from dalda.config import ModelsConfig
from dalda.models import hub
from dalda.models.checkpoints import IPAdapterCheckpoints
from dalda.models.random_profiles import seeded, shape_for

if TYPE_CHECKING:
    from transformers import CLIPImageProcessor, CLIPVisionModelWithProjection

AdapterWeights = dict[str, dict[str, torch.Tensor]]
RandomWeights = Callable[[Any, Any, str], AdapterWeights]
"""``(unet, image_encoder, profile) -> weights`` in a published layout, for the random profiles."""

SHAPES: dict[str, dict[str, Any]] = {
    "tiny": {
        # transformers.CLIPVisionConfig, incl. projection_dim
        "image_encoder": {
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "image_size": 32,
            "patch_size": 8,
            "num_channels": 3,
            "layer_norm_eps": 1e-5,
            "projection_dim": 32,
        },
        "tokens": 4,  # image tokens of the plain adapter
        # The Plus resampler (its input width is the encoder's hidden size, its output width the UNet's
        # cross-attention size); depth 4 and 64-wide heads are fixed by diffusers' loader of the "plus" files.
        "plus": {"hidden_dims": 64, "heads": 1, "num_queries": 4},
        "sdxl_tokens": 4,
    },
    "full-random": {
        "image_encoder": {
            "hidden_size": 1280,
            "intermediate_size": 5120,
            "num_hidden_layers": 32,
            "num_attention_heads": 16,
            "image_size": 224,
            "patch_size": 14,
            "hidden_act": "gelu",
            "layer_norm_eps": 1e-5,
            "projection_dim": 1024,
        },
        "tokens": 4,
        # ip-adapter-plus_sd15's resampler: 16 queries, 12 heads of 64, width 768, over ViT-H's 1280-wide patches.
        "plus": {"hidden_dims": 768, "heads": 12, "num_queries": 16},
        "sdxl_tokens": 4,  # ip-adapter_sdxl_vit-h
    },
}
SEEDS = {"image_encoder": 4, "plain": 5, "plus": 11, "sdxl": 16}
"""The seed each random part is built under (see ``random_profiles.seeded``)."""


def _shape(profile: str) -> dict[str, Any]:
    return shape_for(SHAPES, profile, "IP-Adapter model")


# -------------------------------------------------------------------------------------------- image encoder


def build_image_encoder(profile: str) -> CLIPVisionModelWithProjection:
    """The random profile's image encoder (``CLIPVisionModelWithProjection``)."""
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    config = CLIPVisionConfig(**_shape(profile)["image_encoder"])
    with seeded(SEEDS["image_encoder"]):
        return CLIPVisionModelWithProjection(config)


def load_image_encoder(cfg: ModelsConfig, checkpoints: IPAdapterCheckpoints) -> CLIPVisionModelWithProjection:
    """The IP-Adapter's CLIP image encoder (ViT-H/14 for the published SD 1.5 and SDXL ViT-H adapters)."""
    if cfg.profile != "real":
        return build_image_encoder(cfg.profile)
    from transformers import CLIPVisionModelWithProjection

    return hub.load(
        CLIPVisionModelWithProjection,
        cfg,
        checkpoints.ip_adapter_repo,
        checkpoints.field("ip_adapter_repo"),
        subfolder=checkpoints.image_encoder_subfolder,
    )


def image_processor_for(image_encoder: Any) -> CLIPImageProcessor:
    """CLIP preprocessing at the encoder's resolution, as diffusers' own IP-Adapter loader would create it."""
    from transformers import CLIPImageProcessor

    size = int(image_encoder.config.image_size)
    return CLIPImageProcessor(size={"shortest_edge": size}, crop_size={"height": size, "width": size})


# ----------------------------------------------------------------------------- random weights, published layouts


def build_ip_adapter_state_dict(unet: Any, image_embed_dim: int, profile: str) -> AdapterWeights:
    """Random plain IP-Adapter weights (``ip-adapter_sd15``'s layout), shaped for ``unet``."""
    return _projected_embedding_adapter(unet, image_embed_dim, int(_shape(profile)["tokens"]), SEEDS["plain"])


def build_sdxl_ip_adapter_state_dict(unet: Any, image_embed_dim: int, profile: str) -> AdapterWeights:
    """Random weights in ``ip-adapter_sdxl_vit-h``'s layout: one pooled image embedding projected to tokens of
    SDXL's 2048-wide (tiny: 64) cross-attention, plus every layer's ``to_k_ip``/``to_v_ip``."""
    return _projected_embedding_adapter(unet, image_embed_dim, int(_shape(profile)["sdxl_tokens"]), SEEDS["sdxl"])


def _projected_embedding_adapter(unet: Any, image_embed_dim: int, tokens: int, seed: int) -> AdapterWeights:
    """Random weights of an adapter that projects one image embedding, in the published checkpoints' layout.

    ``image_proj`` maps one image embedding to ``tokens`` context tokens (Linear + LayerNorm); ``ip_adapter``
    holds the extra key/value projections of every cross-attention layer, numbered 1, 3, 5, ... in the UNet's
    attention-processor order, as the checkpoints (and diffusers' loader) number them.
    """
    context_dim = int(unet.config.cross_attention_dim)
    with seeded(seed):
        proj = torch.nn.Linear(image_embed_dim, tokens * context_dim)
        image_proj = {
            "proj.weight": proj.weight.detach().clone(),
            "proj.bias": proj.bias.detach().clone(),
            "norm.weight": torch.ones(context_dim),
            "norm.bias": torch.zeros(context_dim),
        }
        ip_adapter = _ip_attention_weights(unet, context_dim)
    return {"image_proj": image_proj, "ip_adapter": ip_adapter}


def _ip_attention_weights(unet: Any, context_dim: int) -> dict[str, torch.Tensor]:
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


def build_ip_adapter_plus_state_dict(unet: Any, image_hidden_dim: int, profile: str) -> AdapterWeights:
    """Random IP-Adapter Plus weights in the published ``ip-adapter-plus_sd15`` layout, shaped for ``unet``.

    ``image_proj`` is the Perceiver resampler that turns the image encoder's patch tokens (its penultimate
    hidden states, ``image_hidden_dim`` wide) into ``num_queries`` context tokens: built as diffusers'
    ``IPAdapterPlusImageProjection`` and renamed back to the original ``Resampler``'s keys (each layer's
    attention is ``layers.i.0`` with one fused ``to_kv``, its feed-forward ``layers.i.1``), which is the form
    diffusers' loader reads from the published file.
    """
    from diffusers.models.embeddings import IPAdapterPlusImageProjection

    shape = _shape(profile)["plus"]
    context_dim = int(unet.config.cross_attention_dim)
    with seeded(SEEDS["plus"]):
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


# ------------------------------------------------------------------------------------- into a pipeline


def attach_ip_adapter(
    pipe: Any, cfg: ModelsConfig, checkpoints: IPAdapterCheckpoints, random_weights: RandomWeights
) -> None:
    """Load the adapter into ``pipe`` (which already holds its image encoder) through diffusers' loader:
    ``real``: the published weight file; random profiles: ``random_weights(unet, image_encoder, profile)``."""
    with _without_fp32_cast_warning():
        if cfg.profile == "real":
            _load_published(pipe, cfg, checkpoints)
        else:
            weights = random_weights(pipe.unet, pipe.image_encoder, cfg.profile)
            pipe.load_ip_adapter(weights, subfolder=None, weight_name=None, image_encoder_folder=None)


def _load_published(pipe: Any, cfg: ModelsConfig, checkpoints: IPAdapterCheckpoints) -> None:
    """The weight file ``ip_adapter_repo/ip_adapter_subfolder/ip_adapter_weight``; the loader is told not to load
    an image encoder, since the pipeline already holds one."""
    field = checkpoints.field("ip_adapter_repo")
    source = hub.source_of(checkpoints.ip_adapter_repo, field)
    try:
        pipe.load_ip_adapter(
            source,
            subfolder=checkpoints.ip_adapter_subfolder,
            weight_name=checkpoints.ip_adapter_weight,
            image_encoder_folder=None,
            local_files_only=cfg.offline,
            **hub.revision(cfg, checkpoints.ip_adapter_repo, source),
        )
    except (OSError, ValueError) as error:
        raise hub.ModelLoadError(
            f"could not load the IP-Adapter {checkpoints.ip_adapter_subfolder}/{checkpoints.ip_adapter_weight} "
            f"from {field}={checkpoints.ip_adapter_repo!r}: {error}\n{hub.fix_hint(field)}"
        ) from error


def expect_projection(pipe: Any, kind: type, checkpoints: IPAdapterCheckpoints, wanted: str) -> None:
    """Refuse an adapter file of another kind than the generator needs (e.g. a plain one for IP-Adapter Plus)."""
    layers = pipe.unet.encoder_hid_proj.image_projection_layers
    if not all(isinstance(layer, kind) for layer in layers):
        found = ", ".join(type(layer).__name__ for layer in layers)
        field = checkpoints.field("ip_adapter_weight")
        raise hub.ModelLoadError(
            f"{field}={checkpoints.ip_adapter_weight!r} holds a {found}, not the {kind.__name__} this "
            f"generator needs; set {field} to {wanted} (or leave it unset for the default)"
        )


@contextmanager
def _without_fp32_cast_warning() -> Iterator[None]:
    """Silence diffusers' warning about float32-only modules, which it logs on every dtype cast even when a
    model has none (the IP-Adapter loader casts the UNet to its own dtype)."""
    source = logging.getLogger("diffusers.models.modeling_utils")

    def quiet(record: logging.LogRecord) -> bool:
        return "should be kept in float32" not in record.getMessage()

    source.addFilter(quiet)
    try:
        yield
    finally:
        source.removeFilter(quiet)

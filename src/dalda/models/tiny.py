"""The ``tiny`` profile: every model small enough to build in well under a second and run on a CPU in tests.

Sizes are chosen so the whole pipeline works at 64 px: the VAE downsamples 2x (two blocks) into 4 latent
channels at 32x32, which the UNet (two levels) processes; the IP-Adapter image encoder and the scoring CLIP
see 32 px images. The tests save these models in the published checkpoints' folder layout
(``tests/tiny_checkpoints.py``), so the ``real`` loading path can be exercised offline.
"""

from __future__ import annotations

from dalda.models.architectures import RandomArchitecture

_TEXT = {
    "hidden_size": 32,
    "intermediate_size": 37,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "max_position_embeddings": 77,
    "layer_norm_eps": 1e-5,
}
_VAE = {
    "sample_size": 64,
    "in_channels": 3,
    "out_channels": 3,
    "block_out_channels": (32, 64),
    "down_block_types": ("DownEncoderBlock2D", "DownEncoderBlock2D"),
    "up_block_types": ("UpDecoderBlock2D", "UpDecoderBlock2D"),
    "latent_channels": 4,
    "layers_per_block": 1,
    "norm_num_groups": 32,
}
_VISION = {
    "hidden_size": 32,
    "intermediate_size": 37,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "image_size": 32,
    "patch_size": 8,
    "num_channels": 3,
    "layer_norm_eps": 1e-5,
}

TINY = RandomArchitecture(
    name="tiny",
    unet={
        "sample_size": 32,
        "in_channels": 4,
        "out_channels": 4,
        "block_out_channels": (32, 64),
        "layers_per_block": 1,
        "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D"),
        "up_block_types": ("CrossAttnUpBlock2D", "UpBlock2D"),
        "cross_attention_dim": 32,
        "attention_head_dim": 8,
        "norm_num_groups": 32,
    },
    vae=_VAE,
    text_encoder=_TEXT,
    image_encoder={**_VISION, "projection_dim": 32},
    clip_text=_TEXT,
    clip_vision=_VISION,
    clip_projection_dim=16,
    backbone_block="basic",
    backbone_layers=(1, 1, 1, 1),
    backbone_image_size=32,
    siglip={
        "text_config": {**_TEXT, "max_position_embeddings": 64, "projection_size": 32},
        "vision_config": {k: v for k, v in _VISION.items() if k != "layer_norm_eps"},
    },
    blip_vqa={
        "text_config": {"hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 2, "num_attention_heads": 4,
                        "encoder_hidden_size": 32, "max_position_embeddings": 64},
        "vision_config": {"hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 2,
                          "num_attention_heads": 4, "image_size": 32, "patch_size": 8},
    },
    # Depth 4 and 64-wide heads are fixed by diffusers' loader of the published "plus" checkpoints.
    ip_adapter_plus={"hidden_dims": 64, "heads": 1, "num_queries": 4},
    # SDXL in miniature: two text encoders whose hidden states are concatenated (32 + 32 = the UNet's 64-wide
    # cross-attention), the pooled projection of the second plus six 8-wide size/crop embeddings (32 + 48 = 80)
    # as the "text_time" added condition.
    sdxl={
        "unet": {
            "sample_size": 32,
            "in_channels": 4,
            "out_channels": 4,
            "block_out_channels": (32, 64),
            "layers_per_block": 1,
            "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D"),
            "up_block_types": ("CrossAttnUpBlock2D", "UpBlock2D"),
            "attention_head_dim": (2, 4),
            "use_linear_projection": True,
            "addition_embed_type": "text_time",
            "addition_time_embed_dim": 8,
            "transformer_layers_per_block": (1, 2),
            "projection_class_embeddings_input_dim": 80,
            "cross_attention_dim": 64,
            "norm_num_groups": 32,
        },
        "vae": {**_VAE, "scaling_factor": 0.13025, "force_upcast": True},
        "text_encoder": _TEXT,
        "text_encoder_2": {**_TEXT, "projection_dim": 32},
        "ip_adapter_tokens": 4,
    },
)

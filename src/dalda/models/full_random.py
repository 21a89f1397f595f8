"""The ``full-random`` profile: the published checkpoints' architectures with random weights.

For measuring true compute and memory cost without downloading anything. Values are those of the checkpoints'
own config files: SD v1.x UNet and text encoder (CLIP ViT-L/14 text tower), the SD VAE, the IP-Adapter sd15
image encoder (OpenCLIP ViT-H/14 vision tower, 632 M parameters, 1024-d projection), CLIP ViT-B/16 for
scoring, and torchvision's ResNet50. The tokenizer is the offline byte-level one padded to CLIP's 49 408
tokens, so every embedding table has the real shape.
"""

from __future__ import annotations

from dalda.models.architectures import RandomArchitecture

CLIP_VOCAB_SIZE = 49408

FULL_RANDOM = RandomArchitecture(
    name="full-random",
    unet={
        "sample_size": 64,
        "in_channels": 4,
        "out_channels": 4,
        "block_out_channels": (320, 640, 1280, 1280),
        "layers_per_block": 2,
        "down_block_types": ("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
        "up_block_types": ("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
        "cross_attention_dim": 768,
        "attention_head_dim": 8,
        "norm_num_groups": 32,
        "norm_eps": 1e-5,
        "act_fn": "silu",
        "center_input_sample": False,
        "downsample_padding": 1,
        "flip_sin_to_cos": True,
        "freq_shift": 0,
        "mid_block_scale_factor": 1,
    },
    vae={
        "sample_size": 512,
        "in_channels": 3,
        "out_channels": 3,
        "block_out_channels": (128, 256, 512, 512),
        "down_block_types": ("DownEncoderBlock2D",) * 4,
        "up_block_types": ("UpDecoderBlock2D",) * 4,
        "latent_channels": 4,
        "layers_per_block": 2,
        "norm_num_groups": 32,
        "act_fn": "silu",
        "scaling_factor": 0.18215,
    },
    text_encoder={
        "hidden_size": 768,
        "intermediate_size": 3072,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "max_position_embeddings": 77,
        "hidden_act": "quick_gelu",
        "layer_norm_eps": 1e-5,
        "projection_dim": 768,
    },
    image_encoder={
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
    clip_text={
        "hidden_size": 512,
        "intermediate_size": 2048,
        "num_hidden_layers": 12,
        "num_attention_heads": 8,
        "max_position_embeddings": 77,
        "hidden_act": "quick_gelu",
        "layer_norm_eps": 1e-5,
    },
    clip_vision={
        "hidden_size": 768,
        "intermediate_size": 3072,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "image_size": 224,
        "patch_size": 16,
        "hidden_act": "quick_gelu",
        "layer_norm_eps": 1e-5,
    },
    clip_projection_dim=512,
    backbone_block="bottleneck",
    backbone_layers=(3, 4, 6, 3),
    backbone_image_size=224,
    tokenizer_vocab_size=CLIP_VOCAB_SIZE,
    # SigLIP base-patch16-224 and BLIP-VQA base: transformers' config defaults are these checkpoints' shapes.
    siglip={"text_config": {"vocab_size": 32000}, "vision_config": {}},
    blip_vqa={"text_config": {"vocab_size": 30524}, "vision_config": {"image_size": 384}},
    # ip-adapter-plus_sd15's resampler: 16 queries, 12 heads of 64, width 768, over ViT-H's 1280-wide patches.
    ip_adapter_plus={"hidden_dims": 768, "heads": 12, "num_queries": 16},
    # stabilityai/stable-diffusion-xl-base-1.0's config files (UNet 2.6 B parameters, CLIP ViT-L/14 and
    # OpenCLIP ViT-bigG/14 text towers) and ip-adapter_sdxl_vit-h's 4 image tokens.
    sdxl={
        "unet": {
            "sample_size": 128,
            "in_channels": 4,
            "out_channels": 4,
            "block_out_channels": (320, 640, 1280),
            "layers_per_block": 2,
            "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
            "up_block_types": ("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
            "attention_head_dim": (5, 10, 20),
            "transformer_layers_per_block": (1, 2, 10),
            "use_linear_projection": True,
            "addition_embed_type": "text_time",
            "addition_embed_type_num_heads": 64,
            "addition_time_embed_dim": 256,
            "projection_class_embeddings_input_dim": 2816,
            "cross_attention_dim": 2048,
            "norm_num_groups": 32,
            "norm_eps": 1e-5,
            "act_fn": "silu",
            "flip_sin_to_cos": True,
            "freq_shift": 0,
        },
        "vae": {
            "sample_size": 1024,
            "in_channels": 3,
            "out_channels": 3,
            "block_out_channels": (128, 256, 512, 512),
            "down_block_types": ("DownEncoderBlock2D",) * 4,
            "up_block_types": ("UpDecoderBlock2D",) * 4,
            "latent_channels": 4,
            "layers_per_block": 2,
            "norm_num_groups": 32,
            "act_fn": "silu",
            "scaling_factor": 0.13025,
            "force_upcast": True,
        },
        "text_encoder": {
            "hidden_size": 768,
            "intermediate_size": 3072,
            "num_hidden_layers": 12,
            "num_attention_heads": 12,
            "max_position_embeddings": 77,
            "hidden_act": "quick_gelu",
            "layer_norm_eps": 1e-5,
            "projection_dim": 768,
        },
        "text_encoder_2": {
            "hidden_size": 1280,
            "intermediate_size": 5120,
            "num_hidden_layers": 32,
            "num_attention_heads": 20,
            "max_position_embeddings": 77,
            "hidden_act": "gelu",
            "layer_norm_eps": 1e-5,
            "projection_dim": 1280,
        },
        "ip_adapter_tokens": 4,
    },
)

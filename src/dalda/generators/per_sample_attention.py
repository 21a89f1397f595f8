"""IP-Adapter cross-attention with one image weight (lambda) per sample of a batch.

DALDA gives every synthetic image its own lambda. diffusers' ``IPAdapterAttnProcessor2_0`` holds one scalar
scale per adapter (``pipe.set_ip_adapter_scale``), so a batch of images with different lambdas would need one
pipeline call per image. The processor here computes exactly what diffusers' does,

    out = Attn(q, k_text, v_text) + lambda * Attn(q, k_image, v_image)

but takes lambda from a per-sample vector, so one batched UNet call serves rows with different lambdas.

Batch layout: the UNet sees ``k * B`` samples for ``B`` rows (``k = 2`` under classifier-free guidance, the
unconditional half first, then the conditional half, each in row order). diffusers applies the scale to
*both* halves (the unconditional half attends to the projection of zero image embeddings), so the per-row
vector is tiled ``k`` times; that keeps batched output equal to one-row-at-a-time output.

The processor subclasses diffusers' own, keeping its ``to_k_ip``/``to_v_ip`` weights (the very same modules,
no copy) and its scalar ``scale`` list, so ``set_ip_adapter_scale`` still works whenever no per-sample vector
is set. Attention masks (``ip_adapter_masks``) are not supported: DALDA conditions on one whole image.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from diffusers.models.attention_processor import Attention, IPAdapterAttnProcessor2_0, SlicedAttnProcessor


class SampleScales:
    """The per-row lambdas of the batch being generated, shared by every IP-Adapter layer of one UNet.

    One shared holder means a batch sets its lambdas with a single call. ``values`` is a float32 vector on
    the UNet's device with one entry per row, or None to fall back to the scalar scale of
    ``set_ip_adapter_scale``; ``all_zero`` is decided once per batch, not in every layer at every step.
    """

    def __init__(self) -> None:
        self.values: torch.Tensor | None = None
        self.all_zero = False

    def set(self, scales: Sequence[float] | None, device: torch.device | str) -> None:
        if scales is None:
            self.values, self.all_zero = None, False
            return
        self.values = torch.tensor([float(s) for s in scales], dtype=torch.float32, device=device)
        self.all_zero = all(float(s) == 0.0 for s in scales)


class PerSampleIPAdapterAttnProcessor(IPAdapterAttnProcessor2_0):
    """``IPAdapterAttnProcessor2_0`` whose image-prompt weight may differ per sample (see module docstring)."""

    def __init__(self, original: IPAdapterAttnProcessor2_0, sample_scales: SampleScales) -> None:
        super().__init__(
            hidden_size=original.hidden_size,
            cross_attention_dim=original.cross_attention_dim,
            num_tokens=list(original.num_tokens),
            scale=list(original.scale),
        )
        # Reuse the loaded adapter weights themselves (device, dtype and values unchanged).
        self.to_k_ip = original.to_k_ip
        self.to_v_ip = original.to_v_ip
        self.sample_scales = sample_scales

    def _scales_for(self, adapter: int, batch: int, device: torch.device) -> torch.Tensor | None:
        """Per-sample float32 weights of one adapter for a UNet batch of ``batch`` samples; None to skip it."""
        values = self.sample_scales.values
        if values is None:
            scalar = float(self.scale[adapter])
            return None if scalar == 0 else torch.full((batch,), scalar, dtype=torch.float32, device=device)
        if len(self.scale) != 1:
            raise ValueError(
                f"per-sample IP-Adapter scales need exactly one IP-Adapter loaded, found {len(self.scale)}"
            )
        rows = values.numel()
        if rows == 0 or batch % rows != 0:
            raise ValueError(
                f"{rows} per-sample IP-Adapter scales do not divide the UNet batch of {batch} samples; "
                "set one scale per generated image"
            )
        if self.sample_scales.all_zero:
            return None
        return values.to(device=device).repeat(batch // rows)

    def __call__(
        self,
        attn: Attention,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]] | None = None,
        attention_mask: torch.Tensor | None = None,
        temb: torch.Tensor | None = None,
        scale: float = 1.0,
        ip_adapter_masks: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if ip_adapter_masks is not None:
            raise ValueError("ip_adapter_masks are not supported by the per-sample IP-Adapter processor")
        if not isinstance(encoder_hidden_states, tuple):
            raise ValueError(
                "the per-sample IP-Adapter processor needs (text states, image states) from the UNet; "
                "call the pipeline with ip_adapter_image_embeds"
            )
        text_states, image_states = encoder_hidden_states
        residual = hidden_states
        if attn.spatial_norm is not None:
            hidden_states = attn.spatial_norm(hidden_states, temb)
        input_ndim = hidden_states.ndim
        if input_ndim == 4:
            batch, channel, height, width = hidden_states.shape
            hidden_states = hidden_states.view(batch, channel, height * width).transpose(1, 2)
        batch = text_states.shape[0]
        if attention_mask is not None:
            attention_mask = attn.prepare_attention_mask(attention_mask, text_states.shape[1], batch)
            attention_mask = attention_mask.view(batch, attn.heads, -1, attention_mask.shape[-1])
        if attn.group_norm is not None:
            hidden_states = attn.group_norm(hidden_states.transpose(1, 2)).transpose(1, 2)

        query = attn.to_q(hidden_states)
        if attn.norm_cross:
            text_states = attn.norm_encoder_hidden_states(text_states)
        head_dim = query.shape[-1] // attn.heads
        query = _split_heads(query, batch, attn.heads, head_dim)
        hidden_states = _attend(
            query,
            _split_heads(attn.to_k(text_states), batch, attn.heads, head_dim),
            _split_heads(attn.to_v(text_states), batch, attn.heads, head_dim),
            attention_mask,
        )

        for adapter, (tokens, to_k_ip, to_v_ip) in enumerate(zip(image_states, self.to_k_ip, self.to_v_ip)):
            weights = self._scales_for(adapter, batch, query.device)
            if weights is None:
                continue
            if tokens.shape[0] != batch:
                raise ValueError(
                    f"IP-Adapter image states have batch {tokens.shape[0]} but the UNet batch is {batch}; "
                    "pass one image embedding per generated image (diffusers issue #9813 repeats them)"
                )
            image_out = _attend(
                query,
                _split_heads(to_k_ip(tokens), batch, attn.heads, head_dim),
                _split_heads(to_v_ip(tokens), batch, attn.heads, head_dim),
                None,
            )
            # float32 product rounded once to the working dtype, as a Python-float scale would be.
            hidden_states = hidden_states + (weights[:, None, None] * image_out.float()).to(image_out.dtype)

        hidden_states = attn.to_out[0](hidden_states)
        hidden_states = attn.to_out[1](hidden_states)
        if input_ndim == 4:
            hidden_states = hidden_states.transpose(-1, -2).reshape(batch, channel, height, width)
        if attn.residual_connection:
            hidden_states = hidden_states + residual
        return hidden_states / attn.rescale_output_factor


def _split_heads(states: torch.Tensor, batch: int, heads: int, head_dim: int) -> torch.Tensor:
    """(batch, tokens, heads*head_dim) -> (batch, heads, tokens, head_dim); the image tokens of every
    image of a sample are concatenated along ``tokens``, as diffusers does."""
    return states.reshape(batch, -1, heads, head_dim).transpose(1, 2)


def _attend(
    query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, mask: torch.Tensor | None
) -> torch.Tensor:
    """Scaled dot-product attention merged back to (batch, tokens, heads*head_dim) in the query's dtype."""
    out = F.scaled_dot_product_attention(query, key, value, attn_mask=mask, dropout_p=0.0, is_causal=False)
    batch, heads, tokens, head_dim = out.shape
    return out.transpose(1, 2).reshape(batch, tokens, heads * head_dim).to(query.dtype)


def install_per_sample_processors(unet: torch.nn.Module, attention_slicing: bool = False) -> SampleScales:
    """Replace the UNet's IP-Adapter processors with per-sample ones; return the holder their lambdas live in.

    With ``attention_slicing`` the other (self-attention) layers get diffusers' ``SlicedAttnProcessor`` with
    half their heads per slice, which is what ``pipe.enable_attention_slicing()`` does; that call itself must
    not be used because it also replaces the IP-Adapter processors and drops their weights. Cross-attention
    layers are not sliced: their attention matrix is (pixels x 77+4 tokens), small next to self-attention's
    (pixels x pixels). Calling this twice keeps the first holder.
    """
    processors = dict(unet.attn_processors)
    existing = [p for p in processors.values() if isinstance(p, PerSampleIPAdapterAttnProcessor)]
    holder = existing[0].sample_scales if existing else SampleScales()
    found = bool(existing)
    for name, processor in processors.items():
        if isinstance(processor, PerSampleIPAdapterAttnProcessor):
            continue
        if isinstance(processor, IPAdapterAttnProcessor2_0):
            processors[name] = PerSampleIPAdapterAttnProcessor(processor, holder)
            found = True
        elif attention_slicing:
            layer = unet.get_submodule(name.removesuffix(".processor"))
            processors[name] = SlicedAttnProcessor(max(1, layer.sliceable_head_dim // 2))
    if not found:
        raise ValueError(
            "the UNet has no IP-Adapter attention processors; load the pipeline with "
            "dalda.models.sd.load_sd_ip_adapter_pipeline"
        )
    unet.set_attn_processor(processors)
    return holder

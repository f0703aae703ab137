"""Whisper's architecture sizes and its tensor inventory in both naming conventions.

Each tensor is listed once with its Hugging Face name (model.safetensors), its openai name (as
whisper.cpp's ggml files use) and its shape, so the writers of both formats share one list and
a model written in both formats holds the same values under both names.
"""

from __future__ import annotations

from dataclasses import dataclass

N_AUDIO_CTX = 1500
N_TEXT_CTX = 448


@dataclass(frozen=True)
class Dims:
    n_mels: int
    n_vocab: int
    d_model: int
    n_heads: int
    n_encoder_layers: int
    n_decoder_layers: int
    n_audio_ctx: int = N_AUDIO_CTX
    n_text_ctx: int = N_TEXT_CTX

    @property
    def ffn_dim(self) -> int:
        return 4 * self.d_model

    @property
    def multilingual(self) -> bool:
        return self.n_vocab >= 51865


# (n_mels, n_vocab, d_model, heads, encoder layers, decoder layers) of the published checkpoints.
SIZES: dict[str, tuple[int, int, int, int, int, int]] = {
    "tiny": (80, 51865, 384, 6, 4, 4),
    "tiny.en": (80, 51864, 384, 6, 4, 4),
    "base": (80, 51865, 512, 8, 6, 6),
    "base.en": (80, 51864, 512, 8, 6, 6),
    "small": (80, 51865, 768, 12, 12, 12),
    "small.en": (80, 51864, 768, 12, 12, 12),
    "medium": (80, 51865, 1024, 16, 24, 24),
    "large-v3": (128, 51866, 1280, 20, 32, 32),
}


def dims_for(size: str, decoder_layers: int | None = None) -> Dims:
    if size not in SIZES:
        raise ValueError(f"unknown model size {size!r} (known: {', '.join(SIZES)})")
    n_mels, n_vocab, d, heads, enc, dec = SIZES[size]
    if decoder_layers is not None:
        if decoder_layers < 1:
            raise ValueError("--decoder-layers must be at least 1")
        dec = decoder_layers
    return Dims(n_mels, n_vocab, d, heads, enc, dec)


@dataclass(frozen=True)
class TensorSpec:
    hf_name: str
    ggml_name: str
    shape: tuple[int, ...]
    # What the values mean, which decides how they are initialised (see random_weights.py):
    # conv, linear (with `role`), bias, ln_weight, ln_bias, token_embedding, audio_positions,
    # text_positions.
    kind: str
    role: str = ""  # for linear weights: query, key, value, out, fc1, fc2
    stack: str = ""  # "encoder" or "decoder"

    @property
    def numel(self) -> int:
        n = 1
        for s in self.shape:
            n *= s
        return n


# HF attention projection names -> openai's.
_ATTN_PROJ = {"q_proj": "query", "k_proj": "key", "v_proj": "value", "out_proj": "out"}


def _attention(hf: str, oa: str, d: int, stack: str) -> list[TensorSpec]:
    specs = []
    for proj, oa_proj in _ATTN_PROJ.items():
        specs.append(TensorSpec(f"{hf}.{proj}.weight", f"{oa}.{oa_proj}.weight", (d, d),
                                "linear", oa_proj, stack))
        if proj != "k_proj":  # Whisper's key projection has no bias
            specs.append(TensorSpec(f"{hf}.{proj}.bias", f"{oa}.{oa_proj}.bias", (d,),
                                    "bias", oa_proj, stack))
    return specs


def _layer_norm(hf: str, oa: str, d: int, stack: str) -> list[TensorSpec]:
    return [
        TensorSpec(f"{hf}.weight", f"{oa}.weight", (d,), "ln_weight", "", stack),
        TensorSpec(f"{hf}.bias", f"{oa}.bias", (d,), "ln_bias", "", stack),
    ]


def _block(dims: Dims, stack: str, i: int) -> list[TensorSpec]:
    d, f = dims.d_model, dims.ffn_dim
    hf, oa = f"model.{stack}.layers.{i}", f"{stack}.blocks.{i}"
    specs = _attention(f"{hf}.self_attn", f"{oa}.attn", d, stack)
    specs += _layer_norm(f"{hf}.self_attn_layer_norm", f"{oa}.attn_ln", d, stack)
    if stack == "decoder":
        specs += _attention(f"{hf}.encoder_attn", f"{oa}.cross_attn", d, stack)
        specs += _layer_norm(f"{hf}.encoder_attn_layer_norm", f"{oa}.cross_attn_ln", d, stack)
    specs += [
        TensorSpec(f"{hf}.fc1.weight", f"{oa}.mlp.0.weight", (f, d), "linear", "fc1", stack),
        TensorSpec(f"{hf}.fc1.bias", f"{oa}.mlp.0.bias", (f,), "bias", "fc1", stack),
        TensorSpec(f"{hf}.fc2.weight", f"{oa}.mlp.2.weight", (d, f), "linear", "fc2", stack),
        TensorSpec(f"{hf}.fc2.bias", f"{oa}.mlp.2.bias", (d,), "bias", "fc2", stack),
    ]
    specs += _layer_norm(f"{hf}.final_layer_norm", f"{oa}.mlp_ln", d, stack)
    return specs


def tensor_specs(dims: Dims) -> list[TensorSpec]:
    """All tensors in module order (encoder, then decoder). No proj_out: it is tied to
    model.decoder.embed_tokens, as in the published checkpoints."""
    d, m = dims.d_model, dims.n_mels
    enc = "encoder"
    specs = [
        TensorSpec("model.encoder.conv1.weight", "encoder.conv1.weight", (d, m, 3), "conv",
                   "conv1", enc),
        TensorSpec("model.encoder.conv1.bias", "encoder.conv1.bias", (d,), "bias", "conv1", enc),
        TensorSpec("model.encoder.conv2.weight", "encoder.conv2.weight", (d, d, 3), "conv",
                   "conv2", enc),
        TensorSpec("model.encoder.conv2.bias", "encoder.conv2.bias", (d,), "bias", "conv2", enc),
        TensorSpec("model.encoder.embed_positions.weight", "encoder.positional_embedding",
                   (dims.n_audio_ctx, d), "audio_positions", "", enc),
    ]
    for i in range(dims.n_encoder_layers):
        specs += _block(dims, enc, i)
    specs += _layer_norm("model.encoder.layer_norm", "encoder.ln_post", d, enc)

    dec = "decoder"
    specs += [
        TensorSpec("model.decoder.embed_tokens.weight", "decoder.token_embedding.weight",
                   (dims.n_vocab, d), "token_embedding", "", dec),
        TensorSpec("model.decoder.embed_positions.weight", "decoder.positional_embedding",
                   (dims.n_text_ctx, d), "text_positions", "", dec),
    ]
    for i in range(dims.n_decoder_layers):
        specs += _block(dims, dec, i)
    specs += _layer_norm("model.decoder.layer_norm", "decoder.ln", d, dec)
    return specs

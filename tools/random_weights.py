"""Deterministic random values for a Whisper-shaped test model.

Each tensor draws from its own generator, seeded by (seed, crc32 of its HF name): the values do
not depend on the order tensors are written in, on the output format, or on the number of
layers elsewhere (a 2-layer-decoder model shares its encoder with the full model).

The distributions are chosen so that bugs cannot hide behind trivial values:
  * every bias is non-zero; LayerNorm weights ~ U(0.5, 1.5), biases ~ N(0, 0.2);
  * token embeddings ~ N(0, 1) (rows rescaled to the common norm sqrt(d_model)), so logits
    (tied to them) have a std of about sqrt(d_model) and clear top-1/top-2 margins that float32
    and float64 implementations agree on;
  * query projections are scaled up so attention is peaked, not a near-uniform average that
    would hide masking, scaling and softmax bugs (and make the output ignore the audio);
  * the residual branches (attention out_proj, fc2) are scaled with width and depth so that
    the blocks dominate the residual stream; otherwise a tied-embedding model mostly predicts
    its own input token and greedy decoding repeats one token forever.
The price: activations are larger than in trained models (residual stream std ~2*sqrt(d)),
still far inside the float16 range.
"""

from __future__ import annotations

import math
import zlib

import numpy as np

from whisper_tensors import Dims, TensorSpec

# Std of attention scores q.k/sqrt(d_head) for unit-variance inputs: with 1.0, attention over
# 1500 frames is nearly uniform; with 6.0 a query mostly attends to a handful of frames.
QUERY_GAIN = 6.0
# Variance the residual branches of one stack add up to, per model dimension. The token's own
# embedding (variance 1) is then ~1/(4d) of the final stream and lifts its own logit by only
# ~sqrt(d)/2, well below the ~4.5*sqrt(d) maximum of the other logits.
RESIDUAL_VARIANCE_PER_DIM = 4.0
# conv weights are scaled up so the audio, not the positional embedding, drives the encoder.
CONV_GAIN = 2.0
BIAS_STD = 0.1
LN_BIAS_STD = 0.2
AUDIO_POSITION_STD = 1.0
TEXT_POSITION_STD = 0.5

DTYPES = ("f32", "f16", "bf16")


def tensor_rng(seed: int, spec: TensorSpec) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(spec.hf_name.encode())])


def _normal(rng: np.random.Generator, shape, std: float) -> np.ndarray:
    x = rng.standard_normal(shape, dtype=np.float32)
    x *= np.float32(std)
    return x


def _residual_gain(dims: Dims, stack: str) -> float:
    """Gain of the out_proj/fc2 weights, so all branches of a stack add about
    RESIDUAL_VARIANCE_PER_DIM * d_model to the stream whatever its depth."""
    sublayers = 3 * dims.n_decoder_layers if stack == "decoder" else 2 * dims.n_encoder_layers
    return math.sqrt(RESIDUAL_VARIANCE_PER_DIM * dims.d_model / sublayers)


def generate_f32(seed: int, dims: Dims, spec: TensorSpec) -> np.ndarray:
    """The float32 values of one tensor (before rounding to the stored dtype)."""
    rng = tensor_rng(seed, spec)
    shape = spec.shape
    if spec.kind == "linear":
        gain = 1.0
        if spec.role == "query":
            gain = QUERY_GAIN
        elif spec.role in ("out", "fc2"):
            gain = _residual_gain(dims, spec.stack)
        return _normal(rng, shape, gain / math.sqrt(shape[1]))
    if spec.kind == "conv":
        fan_in = shape[1] * shape[2]
        return _normal(rng, shape, CONV_GAIN / math.sqrt(fan_in))
    if spec.kind == "bias":
        return _normal(rng, shape, BIAS_STD)
    if spec.kind == "ln_weight":
        return rng.uniform(0.5, 1.5, shape).astype(np.float32)
    if spec.kind == "ln_bias":
        return _normal(rng, shape, LN_BIAS_STD)
    if spec.kind == "token_embedding":
        # N(0, 1) rows rescaled to the common norm sqrt(d): no token wins by sheer length.
        x = _normal(rng, shape, 1.0)
        x *= np.float32(math.sqrt(shape[1])) / np.linalg.norm(x, axis=1, keepdims=True)
        return x
    if spec.kind == "audio_positions":
        return _normal(rng, shape, AUDIO_POSITION_STD)
    if spec.kind == "text_positions":
        return _normal(rng, shape, TEXT_POSITION_STD)
    raise ValueError(f"no initialisation rule for tensor kind {spec.kind!r} ({spec.hf_name})")


def f32_to_bf16_bits(x: np.ndarray) -> np.ndarray:
    """Round float32 to bfloat16 (nearest, ties to even), as uint16 bit patterns."""
    bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    rounded = bits + (np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1)))
    return (rounded >> np.uint32(16)).astype(np.uint16)


def bf16_bits_to_f32(bits: np.ndarray) -> np.ndarray:
    return (bits.astype(np.uint32) << np.uint32(16)).view(np.float32)


class StoredTensor:
    """One tensor rounded to the model dtype. `stored` holds the bytes' array (float32,
    float16, or uint16 bf16 patterns); `as_f32()` gives the exact same values as float32."""

    def __init__(self, values_f32: np.ndarray, dtype: str):
        if dtype == "f32":
            self.stored = values_f32
        elif dtype == "f16":
            self.stored = values_f32.astype(np.float16)
        elif dtype == "bf16":
            self.stored = f32_to_bf16_bits(values_f32)
        else:
            raise ValueError(f"unknown dtype {dtype!r} (expected one of {', '.join(DTYPES)})")
        self.dtype = dtype

    def as_f32(self) -> np.ndarray:
        if self.dtype == "f32":
            return self.stored
        if self.dtype == "f16":
            return self.stored.astype(np.float32)
        return bf16_bits_to_f32(self.stored)

    def as_f16(self) -> np.ndarray:
        if self.dtype != "f16":
            raise ValueError("only an f16 model can be stored as f16 without re-rounding")
        return self.stored


def generate(seed: int, dims: Dims, spec: TensorSpec, dtype: str) -> StoredTensor:
    return StoredTensor(generate_f32(seed, dims, spec), dtype)

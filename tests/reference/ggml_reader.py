"""Reads whisper.cpp's legacy ggml model files (ggml-*.bin) back into numpy, written from the
published layout (whisper.cpp's convert-pt-to-ggml.py / whisper_model_load), independent of the
project's writer. Used to check that a generated ggml file holds what its HF twin holds, and
(with its own numpy dequantizer) what wisp's quantized files decode to."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

GGML_MAGIC = 0x67676D6C
HPARAM_NAMES = ("n_vocab", "n_audio_ctx", "n_audio_state", "n_audio_head", "n_audio_layer",
                "n_text_ctx", "n_text_state", "n_text_head", "n_text_layer", "n_mels", "ftype")


@dataclass
class GgmlModel:
    hparams: dict[str, int]
    mel_filters: np.ndarray
    tokens: list[bytes]
    tensors: dict[str, np.ndarray] = field(default_factory=dict)  # numpy shape (dims reversed)
    ttypes: dict[str, int] = field(default_factory=dict)  # 0 f32, 1 f16, else QUANT_TYPES
    raw_blocks: dict[str, bytes] = field(default_factory=dict)  # quantized tensors as stored


# ggml's block-quantized types: id -> (name, bytes per block of 32 values). Layouts per block:
# q4_0: f16 d, 16 bytes of nibbles (value j low nibble of byte j, value j+16 high nibble), x = (q-8)d
# q4_1: f16 d, f16 m, nibbles, x = q d + m
# q5_0: f16 d, u32 high bits (bit j -> value j), nibbles, x = (q-16) d
# q5_1: f16 d, f16 m, u32 high bits, nibbles, x = q d + m
# q8_0: f16 d, 32 int8, x = q d
QUANT_TYPES = {2: ("q4_0", 18), 3: ("q4_1", 20), 6: ("q5_0", 22), 7: ("q5_1", 24), 8: ("q8_0", 34)}


def dequantize(ttype: int, data: bytes, count: int) -> np.ndarray:
    """Values of `count` quantized values (a multiple of 32) as float32."""
    name, block_bytes = QUANT_TYPES[ttype]
    blocks = np.frombuffer(data, dtype=np.uint8).reshape(count // 32, block_bytes)

    def half(col: int) -> np.ndarray:
        return blocks[:, col:col + 2].copy().view("<f2").astype(np.float32)  # [n_blocks, 1]

    if name == "q8_0":
        return (blocks[:, 2:].view(np.int8).astype(np.float32) * half(0)).reshape(-1)
    has_min = name in ("q4_1", "q5_1")
    pos = 4 if has_min else 2
    high = None
    if name.startswith("q5"):
        bits = blocks[:, pos:pos + 4].copy().view("<u4")  # [n_blocks, 1]
        high = ((bits >> np.arange(32, dtype=np.uint32)) & 1).astype(np.int32) << 4
        pos += 4
    nibbles = blocks[:, pos:pos + 16].astype(np.int32)
    q = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1)  # values j, then j + 16
    if high is not None:
        q = q | high
    if has_min:
        values = q.astype(np.float32) * half(0) + half(2)
    else:
        offset = 16 if name == "q5_0" else 8
        values = (q - offset).astype(np.float32) * half(0)
    return values.reshape(-1)


class _Reader:
    def __init__(self, data: bytes, path: str):
        self.data, self.pos, self.path = data, 0, path

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ValueError(f"{self.path}: truncated at byte {self.pos} (wanted {n} more)")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def i32(self, count: int = 1):
        values = struct.unpack(f"<{count}i", self.take(4 * count))
        return values[0] if count == 1 else list(values)


def read_ggml(path: str) -> GgmlModel:
    with open(path, "rb") as f:
        r = _Reader(f.read(), path)
    (magic,) = struct.unpack("<I", r.take(4))
    if magic != GGML_MAGIC:
        raise ValueError(f"{path}: bad magic {magic:#x}, expected {GGML_MAGIC:#x}")
    hparams = dict(zip(HPARAM_NAMES, r.i32(len(HPARAM_NAMES))))
    n_mel, n_fft = r.i32(2)
    mel = np.frombuffer(r.take(4 * n_mel * n_fft), dtype="<f4").reshape(n_mel, n_fft)
    n_tokens = r.i32()
    tokens = [r.take(r.i32()) for _ in range(n_tokens)]
    model = GgmlModel(hparams, mel.copy(), tokens)
    while r.pos < len(r.data):
        n_dims, name_len, ttype = r.i32(3)
        if not 1 <= n_dims <= 4 or ttype not in (0, 1, *QUANT_TYPES):
            raise ValueError(f"{path}: bad tensor header at byte {r.pos - 12}")
        ne = r.i32(n_dims) if n_dims > 1 else [r.i32()]
        name = r.take(name_len).decode("utf-8")
        shape = tuple(reversed(ne))
        count = int(np.prod(shape, dtype=np.int64))
        if ttype in QUANT_TYPES:
            if ne[0] % 32:
                raise ValueError(f"{path}: quantized tensor {name} has rows of {ne[0]} values")
            raw = r.take(count // 32 * QUANT_TYPES[ttype][1])
            model.raw_blocks[name] = raw
            values = dequantize(ttype, raw, count)
        else:
            dtype = "<f2" if ttype == 1 else "<f4"
            values = np.frombuffer(r.take(count * np.dtype(dtype).itemsize), dtype=dtype)
        if name in model.tensors:
            raise ValueError(f"{path}: tensor {name} appears twice")
        model.tensors[name] = values.reshape(shape)
        model.ttypes[name] = ttype
    return model

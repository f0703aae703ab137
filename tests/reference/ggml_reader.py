"""Reads whisper.cpp's legacy ggml model files (ggml-*.bin) back into numpy, written from the
published layout (whisper.cpp's convert-pt-to-ggml.py / whisper_model_load), independent of the
project's writer. Used to check that a generated ggml file holds what its HF twin holds."""

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
    ttypes: dict[str, int] = field(default_factory=dict)  # 0 f32, 1 f16


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
        if not 1 <= n_dims <= 4 or ttype not in (0, 1):
            raise ValueError(f"{path}: bad tensor header at byte {r.pos - 12}")
        ne = r.i32(n_dims) if n_dims > 1 else [r.i32()]
        name = r.take(name_len).decode("utf-8")
        shape = tuple(reversed(ne))
        count = int(np.prod(shape, dtype=np.int64))
        dtype = "<f2" if ttype == 1 else "<f4"
        values = np.frombuffer(r.take(count * np.dtype(dtype).itemsize), dtype=dtype)
        if name in model.tensors:
            raise ValueError(f"{path}: tensor {name} appears twice")
        model.tensors[name] = values.reshape(shape)
        model.ttypes[name] = ttype
    return model

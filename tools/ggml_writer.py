"""Writer for whisper.cpp's legacy ggml model files (ggml-*.bin), in the layout its
models/convert-pt-to-ggml.py produces.

All little-endian:
  u32 magic 0x67676d6c ("ggml")
  i32 n_vocab, n_audio_ctx, n_audio_state, n_audio_head, n_audio_layer,
      n_text_ctx, n_text_state, n_text_head, n_text_layer, n_mels, ftype (0 f32, 1 f16)
  i32 n_mel, i32 n_fft_bins (201), then n_mel*201 f32 mel filterbank
  i32 n_tokens, then per token: i32 length + raw bytes (the BPE ranks in rank order)
  tensors until EOF: i32 n_dims, i32 name length, i32 ttype (0 f32, 1 f16),
      i32 dims innermost first (numpy shape reversed), name bytes, raw data (no padding)
"""

from __future__ import annotations

import struct

import numpy as np

from whisper_tensors import Dims

GGML_MAGIC = 0x67676D6C

# The converter keeps these f32 in an f16 file (besides all 1-D tensors).
KEEP_F32 = {
    "encoder.conv1.bias",
    "encoder.conv2.bias",
    "encoder.positional_embedding",
    "decoder.positional_embedding",
}
# The converter stores the conv biases as [d, 1] so they broadcast over time in ggml.
RESHAPE_TO_COLUMN = {"encoder.conv1.bias", "encoder.conv2.bias"}


def ggml_layout(name: str, shape: tuple[int, ...], f16_file: bool) -> tuple[tuple[int, ...], int]:
    """(numpy shape as stored, ttype) of a tensor in a ggml file."""
    if name in RESHAPE_TO_COLUMN:
        shape = (shape[0], 1)
    as_f16 = f16_file and len(shape) >= 2 and name not in KEEP_F32
    return shape, 1 if as_f16 else 0


class GgmlWriter:
    def __init__(self, path: str, dims: Dims, f16: bool, mel_filters: np.ndarray,
                 tokens: list[bytes]):
        if mel_filters.shape != (dims.n_mels, 201):
            raise ValueError(f"mel filters have shape {mel_filters.shape}, "
                             f"expected ({dims.n_mels}, 201)")
        self.f16 = f16
        self.path = path
        self._file = open(path, "wb")
        f = self._file
        f.write(struct.pack("<I", GGML_MAGIC))
        f.write(struct.pack(
            "<11i", dims.n_vocab, dims.n_audio_ctx, dims.d_model, dims.n_heads,
            dims.n_encoder_layers, dims.n_text_ctx, dims.d_model, dims.n_heads,
            dims.n_decoder_layers, dims.n_mels, 1 if f16 else 0))
        f.write(struct.pack("<2i", *mel_filters.shape))
        np.ascontiguousarray(mel_filters, dtype="<f4").tofile(f)
        f.write(struct.pack("<i", len(tokens)))
        for token in tokens:
            f.write(struct.pack("<i", len(token)))
            f.write(token)

    def write(self, name: str, values_f32: np.ndarray, values_f16: np.ndarray | None) -> None:
        """Appends one tensor. `values_f16` (same values as f16) is used for tensors the
        converter stores as f16 in an f16 file; otherwise `values_f32` is written."""
        shape, ttype = ggml_layout(name, values_f32.shape, self.f16)
        data = values_f16 if ttype == 1 else values_f32
        if data is None:
            raise ValueError(f"{name}: f16 values needed for an f16 ggml file")
        data = np.ascontiguousarray(data, dtype="<f2" if ttype == 1 else "<f4").reshape(shape)
        encoded = name.encode("utf-8")
        f = self._file
        f.write(struct.pack("<3i", len(shape), len(encoded), ttype))
        f.write(struct.pack(f"<{len(shape)}i", *reversed(shape)))
        f.write(encoded)
        data.tofile(f)

    def close(self) -> None:
        self._file.close()

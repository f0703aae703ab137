"""Streaming writer for the safetensors format (https://github.com/huggingface/safetensors).

Layout: u64 little-endian header size N, N bytes of JSON header
{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}} padded with
spaces to a multiple of 8, then the raw little-endian tensor data. Offsets are relative to the
end of the header. The header is built from the shapes alone, so tensors can be generated and
written one at a time without holding the model in memory.
"""

from __future__ import annotations

import json
import struct

import numpy as np

# Model dtype -> (safetensors dtype name, bytes per element).
DTYPE_INFO = {"f32": ("F32", 4), "f16": ("F16", 2), "bf16": ("BF16", 2)}


class SafetensorsWriter:
    def __init__(self, path: str, entries: list[tuple[str, tuple[int, ...]]], dtype: str):
        """`entries`: (name, shape) in the order the tensors will be written."""
        st_dtype, itemsize = DTYPE_INFO[dtype]
        header: dict = {"__metadata__": {"format": "pt"}}
        self._expected: list[tuple[str, int]] = []
        offset = 0
        for name, shape in entries:
            nbytes = itemsize * int(np.prod(shape, dtype=np.int64))
            header[name] = {"dtype": st_dtype, "shape": list(shape),
                            "data_offsets": [offset, offset + nbytes]}
            self._expected.append((name, nbytes))
            offset += nbytes
        self.data_size = offset
        text = json.dumps(header, separators=(",", ":")).encode("utf-8")
        text += b" " * (-len(text) % 8)
        self._file = open(path, "wb")
        self._file.write(struct.pack("<Q", len(text)))
        self._file.write(text)
        self._next = 0
        self.path = path

    def write(self, name: str, data: np.ndarray) -> None:
        """Appends the next tensor; `data` must already have the file's dtype (uint16 for bf16)."""
        expected_name, nbytes = self._expected[self._next]
        if name != expected_name:
            raise RuntimeError(f"{self.path}: expected tensor {expected_name}, got {name}")
        raw = np.ascontiguousarray(data)
        if raw.dtype.byteorder == ">":
            raw = raw.byteswap().view(raw.dtype.newbyteorder("<"))
        if raw.nbytes != nbytes:
            raise RuntimeError(f"{self.path}: {name} has {raw.nbytes} bytes, expected {nbytes}")
        raw.tofile(self._file)
        self._next += 1

    def close(self) -> None:
        if self._next != len(self._expected):
            missing = self._expected[self._next][0]
            self._file.close()
            raise RuntimeError(f"{self.path}: closed before tensor {missing} was written")
        self._file.close()

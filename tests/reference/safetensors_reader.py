"""Reads a Hugging Face checkpoint's safetensors weights into float64 torch tensors.

Independent of the project's writers: parses the published format directly (u64 LE header
size, JSON header with dtype/shape/data_offsets, raw data) for single files and for sharded
checkpoints (model.safetensors.index.json). F32, F16 and BF16 are supported.
"""

from __future__ import annotations

import json
import os
import struct

import numpy as np
import torch


def _decode(raw: np.ndarray, dtype: str, shape: list[int], where: str,
            out_type=np.float64) -> np.ndarray:
    """raw: the tensor's bytes (uint8 view of the file) -> `out_type` array of `shape`."""
    if dtype == "F32":
        values = raw.view("<f4").astype(out_type)
    elif dtype == "F16":
        values = raw.view("<f2").astype(out_type)
    elif dtype == "BF16":
        bits = raw.view("<u2").astype(np.uint32) << np.uint32(16)
        values = bits.view(np.float32).astype(out_type)
    elif dtype == "F64":
        values = raw.view("<f8").astype(out_type)
    else:
        raise ValueError(f"{where}: unsupported safetensors dtype {dtype}")
    expected = int(np.prod(shape, dtype=np.int64))
    if values.size != expected:
        raise ValueError(f"{where}: {values.size} values for shape {shape}")
    return values.reshape(shape)


def read_safetensors(path: str, dtype: torch.dtype = torch.float64) -> dict[str, torch.Tensor]:
    """All tensors of one .safetensors file, as float64 (or float32)."""
    out_type = {torch.float64: np.float64, torch.float32: np.float32}[dtype]
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) != 8:
            raise ValueError(f"{path}: too short for a safetensors file")
        (header_len,) = struct.unpack("<Q", head)
        if header_len > 100_000_000:
            raise ValueError(f"{path}: implausible header length {header_len}")
        header = json.loads(f.read(header_len).decode("utf-8"))
    # Map the file rather than reading it: no copies besides the float64 result.
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + header_len)
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        if not 0 <= begin <= end <= len(data):
            raise ValueError(f"{path}: {name} data_offsets {begin}..{end} outside the file")
        values = _decode(data[begin:end], info["dtype"], info["shape"], f"{path}: {name}",
                         out_type)
        tensors[name] = torch.from_numpy(values)
    del data
    return tensors


def read_hf_weights(model_dir: str, dtype: torch.dtype = torch.float64) -> dict[str, torch.Tensor]:
    """model.safetensors, or every shard named by model.safetensors.index.json."""
    single = os.path.join(model_dir, "model.safetensors")
    index_path = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.isfile(single):
        return read_safetensors(single, dtype)
    if not os.path.isfile(index_path):
        raise FileNotFoundError(f"{model_dir}: neither model.safetensors nor "
                                "model.safetensors.index.json found")
    with open(index_path) as f:
        weight_map = json.load(f)["weight_map"]
    tensors: dict[str, torch.Tensor] = {}
    for shard in sorted(set(weight_map.values())):
        for name, value in read_safetensors(os.path.join(model_dir, shard), dtype).items():
            if weight_map.get(name) != shard:
                raise ValueError(f"{shard}: holds {name}, which the index places elsewhere")
            tensors[name] = value
    missing = set(weight_map) - set(tensors)
    if missing:
        raise ValueError(f"{model_dir}: index names tensors no shard holds: {sorted(missing)[:5]}")
    return tensors

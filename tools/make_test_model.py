#!/usr/bin/python3
"""Writes a random-weight Whisper model with a real checkpoint's shapes, for testing wisp
without pretrained weights.

    /usr/bin/python3 tools/make_test_model.py --size tiny --out models/tiny [--format both]
        [--dtype f32|f16|bf16] [--seed 0] [--decoder-layers N] [--shards N] [--assets DIR]

Formats: "hf" writes a Hugging Face directory (config.json, generation_config.json,
preprocessor_config.json, model.safetensors or sharded model-0000i-of-0000N.safetensors with
model.safetensors.index.json, and vocab.json/merges.txt/added_tokens.json/tokenizer.json);
"ggml" writes whisper.cpp's DIR/ggml-model.bin; "both" writes both with identical values
(ggml has no bf16 type: with --dtype bf16 its file holds the bf16-rounded values as f32).
Values are deterministic in --seed; tensors are generated and written one at a time, so even
large-v3 needs little memory.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ggml_writer import GgmlWriter  # noqa: E402
from hf_configs import write_hf_configs  # noqa: E402
from random_weights import DTYPES, generate  # noqa: E402
from safetensors_writer import DTYPE_INFO, SafetensorsWriter  # noqa: E402
from tiktoken_bpe import Encoding, load_ranks, write_hf_tokenizer  # noqa: E402
from whisper_tensors import SIZES, Dims, TensorSpec, dims_for, tensor_specs  # noqa: E402

GGML_FILE = "ggml-model.bin"
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def shard_names(n_shards: int) -> list[str]:
    if n_shards == 1:
        return ["model.safetensors"]
    return [f"model-{i + 1:05d}-of-{n_shards:05d}.safetensors" for i in range(n_shards)]


def assign_shards(specs: list[TensorSpec], n_shards: int, itemsize: int) -> list[int]:
    """Contiguous groups of about equal byte size, in writing order; none left empty."""
    if n_shards > len(specs):
        raise ValueError(f"--shards {n_shards} exceeds the number of tensors ({len(specs)})")
    sizes = [spec.numel * itemsize for spec in specs]
    total = sum(sizes)
    shard_of, done = [], 0
    for i, size in enumerate(sizes):
        # A tensor goes to the shard its midpoint falls in.
        shard = min(n_shards - 1, (2 * done + size) * n_shards // (2 * total))
        # Leave at least one tensor for each remaining shard.
        shard = max(shard, n_shards - (len(specs) - i))
        if shard_of:
            shard = max(shard, shard_of[-1])
            shard = min(shard, shard_of[-1] + 1)
        shard_of.append(shard)
        done += size
    return shard_of


class HfWeights:
    """Writes the tensors into one or more safetensors files, opening each shard in turn."""

    def __init__(self, directory: str, specs: list[TensorSpec], dtype: str, n_shards: int):
        self.directory, self.dtype = directory, dtype
        self.names = shard_names(n_shards)
        self.shard_of = assign_shards(specs, n_shards, DTYPE_INFO[dtype][1])
        self.entries: list[list[tuple[str, tuple[int, ...]]]] = [[] for _ in self.names]
        for spec, shard in zip(specs, self.shard_of):
            self.entries[shard].append((spec.hf_name, spec.shape))
        self.writer: SafetensorsWriter | None = None
        self.current = -1
        self.total_size = 0
        self.index = 0

    def write(self, spec: TensorSpec, stored: np.ndarray) -> None:
        shard = self.shard_of[self.index]
        if shard != self.current:
            self._open(shard)
        self.writer.write(spec.hf_name, stored)
        self.index += 1

    def _open(self, shard: int) -> None:
        if self.writer is not None:
            self.writer.close()
            self.total_size += self.writer.data_size
        path = os.path.join(self.directory, self.names[shard])
        self.writer = SafetensorsWriter(path, self.entries[shard], self.dtype)
        self.current = shard

    def close(self) -> None:
        self.writer.close()
        self.total_size += self.writer.data_size
        if len(self.names) > 1:
            weight_map = {name: self.names[shard]
                          for shard, entries in enumerate(self.entries) for name, _ in entries}
            index = {"metadata": {"total_size": self.total_size},
                     "weight_map": dict(sorted(weight_map.items()))}
            with open(os.path.join(self.directory, "model.safetensors.index.json"), "w") as f:
                json.dump(index, f, indent=2)
                f.write("\n")


def remove_stale_weights(directory: str) -> None:
    """Deletes safetensors files of an earlier run, so a single-file model never sits next to
    a stale shard index (or the reverse) and loaders pick up the wrong weights."""
    for name in os.listdir(directory):
        if name == "model.safetensors.index.json" or (
                name.startswith("model") and name.endswith(".safetensors")):
            os.remove(os.path.join(directory, name))


def load_mel_filters(assets: str, n_mels: int) -> np.ndarray:
    path = os.path.join(assets, "mel_filters.npz")
    with np.load(path) as npz:
        return npz[f"mel_{n_mels}"].astype(np.float32)


def make_model(size: str, out: str, fmt: str = "hf", dtype: str = "f32", seed: int = 0,
               decoder_layers: int | None = None, shards: int = 1,
               assets: str | None = None) -> Dims:
    """Writes the model and returns its dimensions (the library entry point of the CLI)."""
    if fmt not in ("hf", "ggml", "both"):
        raise ValueError(f"unknown format {fmt!r} (expected hf, ggml or both)")
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r} (expected one of {', '.join(DTYPES)})")
    if shards < 1:
        raise ValueError("--shards must be at least 1")
    assets = assets or os.path.join(REPO_ROOT, "..", "shared", "assets")
    dims = dims_for(size, decoder_layers)
    rank_file = os.path.join(assets, "multilingual.tiktoken" if dims.multilingual
                             else "gpt2.tiktoken")
    for needed in (rank_file, os.path.join(assets, "mel_filters.npz")):
        if not os.path.isfile(needed):
            raise FileNotFoundError(f"{needed} not found (pass --assets DIR with the shared "
                                    "assets: *.tiktoken and mel_filters.npz)")
    ranks = load_ranks(rank_file)
    enc = Encoding(ranks, dims.n_vocab)
    os.makedirs(out, exist_ok=True)

    specs = tensor_specs(dims)
    if fmt in ("hf", "both"):
        remove_stale_weights(out)
    hf = HfWeights(out, specs, dtype, shards) if fmt in ("hf", "both") else None
    ggml = None
    if fmt in ("ggml", "both"):
        tokens = [token for token, _ in sorted(ranks.items(), key=lambda item: item[1])]
        ggml = GgmlWriter(os.path.join(out, GGML_FILE), dims, dtype == "f16",
                          load_mel_filters(assets, dims.n_mels), tokens)
    for spec in specs:
        tensor = generate(seed, dims, spec, dtype)
        if hf is not None:
            hf.write(spec, tensor.stored)
        if ggml is not None:
            ggml.write(spec.ggml_name, tensor.as_f32(),
                       tensor.as_f16() if dtype == "f16" else None)
    if hf is not None:
        hf.close()
        write_hf_configs(out, dims, enc, dtype)
        write_hf_tokenizer(out, ranks, dims.n_vocab)
    if ggml is not None:
        ggml.close()
    return dims


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", required=True, choices=list(SIZES))
    parser.add_argument("--out", required=True, help="output directory (created if missing)")
    parser.add_argument("--format", default="hf", choices=["hf", "ggml", "both"])
    parser.add_argument("--dtype", default="f32", choices=list(DTYPES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--decoder-layers", type=int, default=None,
                        help="override the decoder depth (distil-whisper style)")
    parser.add_argument("--shards", type=int, default=1, help="number of safetensors files")
    parser.add_argument("--assets", default=None,
                        help="shared assets directory (default: ../shared/assets from the repo)")
    args = parser.parse_args(argv)
    if args.seed < 0:
        parser.error("--seed must be non-negative")
    start = time.time()
    try:
        dims = make_model(args.size, args.out, args.format, args.dtype, args.seed,
                          args.decoder_layers, args.shards, args.assets)
    except (ValueError, FileNotFoundError, OSError) as e:
        print(f"make_test_model: error: {e}", file=sys.stderr)
        return 1
    n_params = sum(spec.numel for spec in tensor_specs(dims))
    print(f"wrote {args.size} ({n_params / 1e6:.1f}M parameters, {args.dtype}, seed {args.seed}, "
          f"{dims.n_decoder_layers} decoder layers, format {args.format}) to {args.out} "
          f"in {time.time() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

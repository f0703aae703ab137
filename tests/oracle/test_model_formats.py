"""Every supported way of storing a model gives the reference's numerics: F16/BF16 weights,
sharded safetensors, distil-whisper's 2-layer decoder, English-only vocabularies, ggml files."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pylib"))
from wisp_testlib import make_model, run_oracle_dump, run_wisp, shared_file, work_dir  # noqa: E402
from whisper_ref import WhisperRef  # noqa: E402


def relative_error(actual, expected):
    return float(np.abs(actual.astype(np.float64) - expected).max() / np.abs(expected).max())


VARIANTS = {
    "f16": dict(dtype="f16"),
    "bf16": dict(dtype="bf16"),
    "sharded": dict(extra=("--shards", "3")),
    "distil": dict(extra=("--decoder-layers", "2")),
    "english-only": dict(size="tiny.en"),
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_variant_logits_match_reference(variant):
    options = {"size": "tiny", **VARIANTS[variant]}
    model = make_model(**options)
    audio = shared_file("audio/jfk.flac")
    out = work_dir(f"oracle-formats/{variant}")
    ref = WhisperRef(str(model))
    t = ref.tokens
    tokens = [t.sot] + ([t.language_token("en"), t.transcribe] if t.multilingual else []) + [t.no_timestamps, 400, 1000, 220]
    run_oracle_dump("logits", "--model", model, "--audio", audio, "--tokens", ",".join(map(str, tokens)),
                    "--mel-out", out / "mel.npy", "--out", out / "logits.npy")
    mel = torch.from_numpy(np.load(out / "mel.npy")).double()
    with torch.no_grad():
        expected = ref.decoder_logits(tokens, ref.encoder(mel)).numpy()
    error = relative_error(np.load(out / "logits.npy"), expected)
    print(f"{variant}: logits relative error {error:.2e}")
    assert error <= 1e-4


@pytest.mark.parametrize("dtype", ["f32", "f16"])
def test_ggml_and_hf_agree(dtype):
    model = make_model("tiny", dtype=dtype)
    audio = shared_file("audio/jfk.flac")
    out = work_dir(f"oracle-formats/ggml-{dtype}")
    tokens = "50258,50259,50359,50363,400,1000"
    for name, path in (("hf", model), ("ggml", model / "ggml-model.bin")):
        run_oracle_dump("logits", "--model", path, "--audio", audio, "--tokens", tokens, "--out", out / f"{name}.npy")
    # Same weights; the only difference is the mel filterbank (stored in the ggml file as
    # float32, computed by wisp for HF), so agreement is near float32 rounding.
    assert relative_error(np.load(out / "ggml.npy"), np.load(out / "hf.npy")) <= 1e-5


def test_verbose_reports_weight_type():
    model = make_model("tiny", dtype="bf16")
    result = run_wisp("transcribe", shared_file("audio/jfk.flac"), "--model", model, "--language", "en", "-v", "--beam_size", "None",
                      "--temperature_increment_on_fallback", "None")
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert b"bf16 weights" in result.stderr

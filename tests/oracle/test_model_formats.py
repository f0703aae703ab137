"""Every supported way of storing a model gives the reference's numerics: F16/BF16 weights,
sharded safetensors, distil-whisper's 2-layer decoder, English-only vocabularies, ggml files."""
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


def test_reduced_precision_compute_stays_close_to_the_reference():
    """--compute_type float16 (IEEE half K/V caches), int16 (also 12-bit integer
    encoder and cross-attention K/V weight products) and, on AVX512_BF16 CPUs, bfloat16 (bf16
    products instead), all with f32 or exact accumulation: the price in accuracy is bounded and
    reported, never silent corruption."""
    computes = ["float32", "float16", "int16"]
    if b"avx512_bf16" in Path("/proc/cpuinfo").read_bytes():
        computes.append("bfloat16")  # elsewhere wisp refuses bf16 (see test_cli_errors)
    model = make_model("tiny", dtype="f16")
    audio = shared_file("audio/jfk.flac")
    out = work_dir("oracle-formats/reduced-compute")
    ref = WhisperRef(str(model))
    t = ref.tokens
    tokens = [t.sot, t.language_token("en"), t.transcribe, t.no_timestamps, 400, 1000, 220]
    errors = {}
    for compute in computes:
        run_oracle_dump("logits", "--model", model, "--audio", audio, "--tokens", ",".join(map(str, tokens)),
                        "--compute_type", compute, "--mel-out", out / "mel.npy", "--out", out / f"{compute}.npy")
        mel = torch.from_numpy(np.load(out / "mel.npy")).double()
        with torch.no_grad():
            expected = ref.decoder_logits(tokens, ref.encoder(mel)).numpy()
        errors[compute] = relative_error(np.load(out / f"{compute}.npy"), expected)
    print(f"logits relative error: {errors}")
    assert errors["float32"] <= 1e-4
    # The half caches round keys and values to 11 significant bits: above f32's error, far below
    # a broken cache's O(1).
    assert errors["float32"] < errors["float16"] <= 0.02  # measured 8e-4
    # 12-bit products round each input to ~1e-3 of its row's largest value; the same softmax
    # amplification as bf16's below: measured 0.047 (bf16: 0.13).
    assert errors["float16"] < errors["int16"] <= 0.1
    if "bfloat16" in errors:
        # bf16 keeps 8 significant bits per product input. Random-weight models amplify it (large
        # attention scores make the softmax sensitive to absolute score errors): measured 0.13 on
        # this model, 0.003-0.005 per product.
        assert 1e-3 < errors["bfloat16"] <= 0.25

"""`wisp convert` (ggml f32/f16/quantized files whisper.cpp can load) and `wisp bench`.

wisp's quantized files are decoded by the independent numpy dequantizer in
tests/reference/ggml_reader.py and compared with the f32 weights they came from."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pylib"))
from wisp_testlib import WISP_BIN, make_model, run_wisp, shared_file, work_dir  # noqa: E402
from ggml_reader import read_ggml  # noqa: E402  (tests/reference, on the path via wisp_testlib)

TYPES = ["f32", "f16", "q8_0", "q5_0", "q5_1", "q4_0", "q4_1"]
TYPE_IDS = {"f32": 0, "f16": 1, "q4_0": 2, "q4_1": 3, "q5_0": 6, "q5_1": 7, "q8_0": 8}
FTYPES = {"f32": 0, "f16": 1, "q4_0": 2002, "q4_1": 2003, "q8_0": 2007, "q5_0": 2008, "q5_1": 2009}
# Not quantized by whisper.cpp's quantize tool (besides every tensor that is not 2-D).
KEPT_F32 = {"encoder.conv1.bias", "encoder.conv2.bias", "encoder.positional_embedding",
            "decoder.positional_embedding"}


@pytest.fixture(scope="module")
def models():
    hf = make_model("tiny", "hf", "f32")
    f32_twin = make_model("tiny", "ggml", "f32")  # same values, written by the Python tool
    out = work_dir("convert_bench")
    converted = {}
    for t in TYPES:
        path = out / f"tiny-{t}.bin"
        result = run_wisp("convert", hf, path, "--type", t)
        assert result.returncode == 0, result.stderr.decode()
        converted[t] = path
    return hf, read_ggml(str(f32_twin)), converted


def expected_type(name: str, n_dims: int, file_type: str) -> int:
    if file_type == "f32" or n_dims < 2 or name in KEPT_F32:
        return 0
    if n_dims == 3:
        return 1  # conv kernels: f16 in every non-f32 file (whisper.cpp's loader expects it)
    return TYPE_IDS[file_type]


def block_bound(values: np.ndarray, file_type: str) -> np.ndarray:
    """Largest allowed |error| per block of 32 consecutive values of the type's reference quantizer:
    one quantization step (half a step for q8_0) plus the fp16 rounding of scale and minimum."""
    blocks = values.reshape(-1, 32).astype(np.float64)
    amax = np.abs(blocks).max(axis=1)
    spread = blocks.max(axis=1) - blocks.min(axis=1)
    step = {"q8_0": 2 * amax / 254, "q5_0": 2 * amax / 32, "q4_0": 2 * amax / 16,
            "q5_1": spread / 31, "q4_1": spread / 15}[file_type]
    scale = 0.5 if file_type == "q8_0" else 1.0
    return scale * step + 2e-3 * amax + 1e-7


@pytest.mark.parametrize("file_type", TYPES)
def test_converted_file_layout_and_values(models, file_type):
    _, reference, converted = models
    model = read_ggml(str(converted[file_type]))
    assert model.hparams["ftype"] == FTYPES[file_type]
    assert {k: v for k, v in model.hparams.items() if k != "ftype"} == \
        {k: v for k, v in reference.hparams.items() if k != "ftype"}
    assert model.tokens == reference.tokens
    assert set(model.tensors) == set(reference.tensors)
    quantized = 0
    for name, values in model.tensors.items():
        ref = reference.tensors[name].astype(np.float32)
        assert values.shape == ref.shape, name
        ttype = model.ttypes[name]
        assert ttype == expected_type(name, values.ndim, file_type), name
        if ttype == 0:
            np.testing.assert_array_equal(values, ref, err_msg=name)
        elif ttype == 1:
            np.testing.assert_array_equal(values, ref.astype(np.float16), err_msg=name)
        else:
            quantized += 1
            error = np.abs(values.astype(np.float64) - ref.astype(np.float64)).reshape(-1, 32)
            bound = block_bound(ref, file_type)[:, None]
            worst = np.unravel_index(np.argmax(error - bound), error.shape)
            assert (error <= bound).all(), (f"{name}: block {worst[0]} error {error[worst]:.3g} "
                                            f"> bound {bound[worst[0], 0]:.3g}")
            # The quantizer is not a no-op: values really moved onto the grid.
            assert error.max() > 0, name
    assert quantized == (0 if file_type in ("f32", "f16") else
                         sum(1 for n, v in reference.tensors.items() if v.ndim == 2 and n not in KEPT_F32))


def transcribe_args():
    """Greedy, English, without temperature fallback where this build has the option: fast on a
    random-weight model."""
    help_text = run_wisp("transcribe", "--help").stdout.decode()
    args = ["--language", "en"]
    if "--temperature-increment-on-fallback" in help_text:
        args += ["--temperature_increment_on_fallback", "None"]
    return args


@pytest.mark.parametrize("file_type", TYPES)
def test_converted_model_transcribes(models, file_type):
    _, _, converted = models
    clip = shared_file("audio/jfk.flac")
    result = run_wisp("transcribe", clip, "--model", converted[file_type], *transcribe_args())
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.strip(), "empty transcript"


def test_quantized_file_converts_back(models):
    _, reference, converted = models
    out = work_dir("convert_bench") / "from-q8_0-f32.bin"
    result = run_wisp("convert", converted["q8_0"], out, "--type", "f32")
    assert result.returncode == 0, result.stderr.decode()
    back = read_ggml(str(out))
    q8 = read_ggml(str(converted["q8_0"]))
    name = "decoder.token_embedding.weight"
    np.testing.assert_array_equal(back.tensors[name], q8.tensors[name])  # dequantized exactly
    assert back.ttypes[name] == 0


def test_bench_json_fields(models):
    hf, _, converted = models
    result = run_wisp("bench", "--model", converted["q8_0"], "--quick", "--json", "--threads", "2",
                      "--reference", hf, "--accuracy-tokens", "8")
    assert result.returncode == 0, result.stderr.decode()
    report = json.loads(result.stdout)
    for key in ("load_ms", "encode_ms", "decode_ms_per_token", "batched_ms_per_token", "prompt_ms_per_token",
                "peak_rss_bytes", "threads"):
        assert report[key] > 0, key
    for metric in ("encode", "decode", "batched", "prompt"):
        m = report["metrics"][metric]
        assert m["calls"] > 0 and m["median_ms_per_token"] > 0 and m["mean_ms_per_token"] > 0, metric
    assert report["metrics"]["batched"]["tokens_per_call"] == 5
    assert report["isa"] in ("scalar", "avx2", "avx512")
    assert report["blas_core"]  # OpenBLAS's kernel set, e.g. Haswell
    accuracy = report["accuracy"]
    assert accuracy["positions"] >= 1
    assert 0 <= accuracy["argmax_agreements"] <= accuracy["positions"]
    assert 0 < accuracy["logits_max_abs_error"] < accuracy["logits_max_abs_reference"]


def test_bench_against_itself_is_exact(models):
    _, _, converted = models
    result = run_wisp("bench", "--model", converted["f32"], "--quick", "--json", "--threads", "2",
                      "--reference", converted["f32"], "--accuracy-tokens", "4")
    assert result.returncode == 0, result.stderr.decode()
    accuracy = json.loads(result.stdout)["accuracy"]
    assert accuracy["logits_max_abs_error"] == 0
    assert accuracy["argmax_agreements"] == accuracy["positions"]


def test_convert_errors(models, tmp_path):
    hf, _, _ = models
    result = run_wisp("convert", hf, tmp_path / "x.bin", "--type", "q3_k")
    assert result.returncode == 2
    assert b"--type" in result.stderr and b"q3_k" in result.stderr
    assert not (tmp_path / "x.bin").exists()

    result = run_wisp("convert", tmp_path / "missing", tmp_path / "x.bin", "--type", "q8_0")
    assert result.returncode == 1
    assert b"model not found" in result.stderr

    target = tmp_path / "no-such-dir" / "x.bin"
    result = run_wisp("convert", hf, target, "--type", "q8_0")
    assert result.returncode == 1
    assert b"cannot write" in result.stderr and str(target).encode() in result.stderr
    assert not target.exists()
    if os.geteuid() != 0:  # root writes anywhere; a read-only directory only stops others
        readonly = tmp_path / "ro"
        readonly.mkdir()
        readonly.chmod(0o500)
        result = run_wisp("convert", hf, readonly / "x.bin", "--type", "q8_0")
        assert result.returncode == 1 and b"cannot write" in result.stderr


def compute_args():
    """float32 products where this build has the option (exact comparisons below)."""
    help_text = run_wisp("bench", "--help").stdout.decode()
    return ["--compute-type", "float32"] if "--compute-type" in help_text or "--compute_type" in help_text else []


def bench_json(model, *args, env=None):
    result = run_wisp("bench", "--model", model, "--quick", "--json", "--threads", "2", *compute_args(), *args,
                      env=env)
    assert result.returncode == 0, result.stderr.decode()
    return json.loads(result.stdout)


@pytest.mark.parametrize("file_type", ["q8_0", "q5_0", "q4_1"])
def test_quantized_model_equals_its_dequantized_twin(models, file_type):
    """Quantized weights are used in place by the quantized kernels: with the scalar kernels the
    logits equal, bit for bit, those of the f32 file holding the exactly dequantized weights (the
    kernels sum in the same order, and the sgemm path widens to the same values). With the CPU's
    own kernels an f32 file's encoder may run on repacked panels (AVX2-only CPUs) and sum in
    another order: the logits then agree to rounding and every greedy token is the same."""
    _, _, converted = models
    twin = work_dir("convert_bench") / f"from-{file_type}-f32.bin"
    result = run_wisp("convert", converted[file_type], twin, "--type", "f32")
    assert result.returncode == 0, result.stderr.decode()
    scalar = bench_json(converted[file_type], "--reference", twin, "--accuracy-tokens", "6",
                        env={"WISP_ISA": "scalar"})["accuracy"]
    assert scalar["logits_max_abs_error"] == 0
    assert scalar["argmax_agreements"] == scalar["positions"]
    native = bench_json(converted[file_type], "--reference", twin, "--accuracy-tokens", "6")["accuracy"]
    assert native["logits_max_abs_error"] < 0.02
    assert native["argmax_agreements"] == native["positions"]


def peak_rss(model):
    """`wisp bench`'s peak RSS, run through a shell that forks it: Linux keeps a process's peak RSS
    across exec, so wisp started straight from this (large) Python process would report ours."""
    args = [str(a) for a in ("bench", "--model", model, "--quick", "--json", "--threads", "2", *compute_args())]
    result = subprocess.run(["sh", "-c", '"$0" "$@"; exit $?', str(WISP_BIN), *args], capture_output=True, timeout=600)
    assert result.returncode == 0, result.stderr.decode()
    return json.loads(result.stdout)["peak_rss_bytes"]


def test_quantized_weights_stay_quantized_in_memory(models):
    """Quantized matrices are not widened at load: a q8_0 model's peak RSS is below the f16
    model's (dequantizing to f32 at load made it about twice the f16 one)."""
    _, _, converted = models
    rss = {t: peak_rss(converted[t]) for t in ("f16", "q8_0", "q4_0")}
    assert rss["q8_0"] < rss["f16"], rss
    assert rss["q4_0"] < rss["q8_0"], rss


@pytest.mark.parametrize("isa", ["avx2", "native"])
def test_auto_compute_type_follows_the_weights(models, isa):
    """`auto` on every SIMD CPU (WISP_ISA=avx2 makes an AVX-512 one choose as an AVX2-only one):
    int16 for the block types the integer product reads in place, so a quantized file is never
    copied; bfloat16 for the other non-f32 files on AVX512_BF16 CPUs, float16 elsewhere."""
    cpuinfo = Path("/proc/cpuinfo").read_bytes()
    if b" avx2" not in cpuinfo:
        pytest.skip("no AVX2")
    _, _, converted = models
    env = {"WISP_ISA": "avx2"} if isa == "avx2" else {}
    half = "bfloat16" if b"avx512_bf16" in cpuinfo else "float16"
    expected = {"q8_0": "int16", "q5_0": "int16", "q4_0": "int16", "q5_1": half, "q4_1": half,
                "f16": half, "f32": "float32"}
    for file_type, compute in expected.items():
        result = run_wisp("bench", "--model", converted[file_type], "--quick", "--json", "--threads", "2", env=env)
        assert result.returncode == 0, result.stderr.decode()
        assert json.loads(result.stdout)["compute_type"] == compute, file_type

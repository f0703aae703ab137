"""Bad input never crashes wisp: each case gives one clear 'error:' line and a non-zero exit."""
import json
import shutil
import struct
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pylib"))
from wisp_testlib import make_model, run_wisp, shared_file, work_dir  # noqa: E402


def assert_clean_error(result, *fragments, code=1):
    err = result.stderr.decode(errors="replace")
    assert result.returncode == code, f"exit {result.returncode}, stderr:\n{err}"
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), f"expected one error line, got:\n{err}"
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    assert result.stdout == b""


@pytest.fixture(scope="module")
def tiny():
    return make_model("tiny")


@pytest.fixture(scope="module")
def jfk():
    return shared_file("audio/jfk.flac")


def test_help_lists_transcribe():
    result = run_wisp("--help")
    assert result.returncode == 0
    assert b"transcribe" in result.stdout


def test_transcribe_help_lists_options():
    result = run_wisp("transcribe", "--help")
    assert result.returncode == 0
    for option in (b"--model", b"--language", b"--task", b"--threads", b"--output-format"):
        assert option in result.stdout


def test_no_command():
    assert_clean_error(run_wisp(), "subcommand", code=2)


def test_unknown_flag(tiny, jfk):
    assert_clean_error(run_wisp("transcribe", jfk, "--model", tiny, "--bogus"), "--bogus", code=2)


def test_missing_model_option(jfk):
    assert_clean_error(run_wisp("transcribe", jfk), "--model", code=2)


@pytest.mark.parametrize("option,value", [("--task", "summarise"), ("--threads", "-3"),
                                          ("--output-format", "docx")])
def test_bad_option_values(tiny, jfk, option, value):
    assert_clean_error(run_wisp("transcribe", jfk, "--model", tiny, option, value), value, code=2)


@pytest.mark.parametrize("args,fragment", [
    (["--beam_size", "-2"], "--beam_size must be at least 1"),
    (["--beam_size", "0"], "--beam_size must be at least 1"),
    (["--best_of", "0", "--temperature", "0.5"], "--best_of must be at least 1"),
    (["--temperature", "-0.5"], "--temperature must be 0"),
    (["--temperature", "abc"], "abc"),
    (["--temperature_increment_on_fallback", "0"], "must be positive"),
    (["--patience", "2", "--beam_size", "None"], "--patience needs --beam_size"),
    (["--patience", "-1"], "--patience must be positive"),
    (["--length_penalty", "1.5"], "--length_penalty must be between 0 and 1"),
    (["--logprob_threshold", "low"], "--logprob_threshold expects a number or None"),
    (["--word_timestamps", "maybe"], "--word_timestamps expects True or False"),
    (["--condition_on_previous_text", "perhaps"], "--condition_on_previous_text expects True or False"),
    (["--highlight_words", "True"], "--highlight_words requires --word_timestamps True"),
    (["--max_line_width", "40"], "--max_line_width requires --word_timestamps True"),
    (["--word_timestamps", "--max_line_width", "0"], "--max_line_width must be at least 1"),
    (["--clip_timestamps", "3,x"], "--clip_timestamps"),
    (["--clip_timestamps", "-4"], "--clip_timestamps: times must be 0 or positive"),
    (["--hallucination_silence_threshold", "-1"], "--hallucination_silence_threshold must be 0 or positive"),
    (["--output_format", "all"], "--output_dir"),
])
def test_bad_decoding_options(tiny, jfk, args, fragment):
    # Checked before the model loads or any audio is decoded.
    # Values CLI11 cannot convert are usage errors (exit 2), the rest wisp's own checks (exit 1).
    code = 2 if fragment == "abc" else 1
    assert_clean_error(run_wisp("transcribe", jfk, "--model", tiny, *args), fragment, code=code)


def test_unwritable_output_dir(tiny, jfk):
    blocker = work_dir("cli") / "a-file"
    blocker.write_text("x")
    assert_clean_error(run_wisp("transcribe", jfk, "--model", tiny, "--language", "en", "--beam_size", "None",
                                "--output_dir", blocker / "sub", "--output_format", "txt"), str(blocker))


def test_unknown_language(tiny, jfk):
    assert_clean_error(run_wisp("transcribe", jfk, "--model", tiny, "--language", "klingon"), "klingon")


def test_bad_suppress_tokens(tiny, jfk):
    assert_clean_error(run_wisp("transcribe", jfk, "--model", tiny, "--suppress_tokens", "12,abc"), "abc")


def test_missing_audio(tiny):
    missing = work_dir("cli") / "no-such-clip.flac"
    assert_clean_error(run_wisp("transcribe", missing, "--model", tiny), str(missing), "not found")


def test_non_audio_file(tiny):
    text = work_dir("cli") / "notes.wav"
    text.write_text("this is not audio\n" * 100)
    assert_clean_error(run_wisp("transcribe", text, "--model", tiny), str(text))


def test_empty_audio_file(tiny):
    empty = work_dir("cli") / "empty.mp3"
    empty.write_bytes(b"")
    assert_clean_error(run_wisp("transcribe", empty, "--model", tiny), str(empty))


def test_missing_model(jfk):
    missing = work_dir("cli") / "no-such-model"
    assert_clean_error(run_wisp("transcribe", jfk, "--model", missing), str(missing), "not found")


def test_directory_without_config(jfk):
    empty_dir = work_dir("cli/empty-model-dir")
    assert_clean_error(run_wisp("transcribe", jfk, "--model", empty_dir), "config.json")


def copy_model(tiny, name):
    target = work_dir("cli") / name
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(tiny, target, ignore=shutil.ignore_patterns("ggml-model.bin"))
    return target


def test_truncated_safetensors(tiny, jfk):
    model = copy_model(tiny, "truncated")
    weights = model / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    assert_clean_error(run_wisp("transcribe", jfk, "--model", model), "model.safetensors", "outside the file")


def test_garbage_safetensors(tiny, jfk):
    model = copy_model(tiny, "garbage")
    (model / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
    assert_clean_error(run_wisp("transcribe", jfk, "--model", model), "model.safetensors", "header")


def rewrite_header(path, edit):
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    edit(header)
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + data[8 + n:])


def test_unsupported_dtype(tiny, jfk):
    model = copy_model(tiny, "int-dtype")
    name = "model.encoder.layer_norm.weight"
    rewrite_header(model / "model.safetensors", lambda h: h[name].update(dtype="I32"))
    assert_clean_error(run_wisp("transcribe", jfk, "--model", model), name, "I32")


def test_missing_tensor(tiny, jfk):
    model = copy_model(tiny, "missing-tensor")
    rewrite_header(model / "model.safetensors", lambda h: h.pop("model.decoder.layers.1.fc1.bias"))
    assert_clean_error(run_wisp("transcribe", jfk, "--model", model), "decoder.blocks.1.mlp.0.bias", "missing")


def test_config_shape_mismatch(tiny, jfk):
    model = copy_model(tiny, "mel-mismatch")
    config = json.loads((model / "config.json").read_text())
    config["num_mel_bins"] = 128
    (model / "config.json").write_text(json.dumps(config))
    assert_clean_error(run_wisp("transcribe", jfk, "--model", model), "encoder.conv1.weight", "expected")


def test_config_not_json(tiny, jfk):
    model = copy_model(tiny, "bad-config")
    (model / "config.json").write_text("{ this is not json")
    assert_clean_error(run_wisp("transcribe", jfk, "--model", model), "config.json")


def test_ggml_bad_magic(jfk):
    fake = work_dir("cli") / "ggml-fake.bin"
    fake.write_bytes(b"GGUF" + b"\x00" * 100)
    assert_clean_error(run_wisp("transcribe", jfk, "--model", fake), str(fake), "ggml")


def test_ggml_truncated(tiny, jfk):
    data = (tiny / "ggml-model.bin").read_bytes()
    cut = work_dir("cli") / "ggml-truncated.bin"
    cut.write_bytes(data[: len(data) - 1000])
    assert_clean_error(run_wisp("transcribe", jfk, "--model", cut), str(cut), "truncated")


def test_ggml_impossible_quantized_tensor(tiny, jfk):
    # Flip the first tensor (conv1, rows of 3 values) to q8_0 (8): blocks of 32 cannot fit.
    data = bytearray((tiny / "ggml-model.bin").read_bytes())
    hparams_end = 4 + 11 * 4
    n_mel, n_fft = struct.unpack_from("<ii", data, hparams_end)
    pos = hparams_end + 8 + 4 * n_mel * n_fft
    (n_words,) = struct.unpack_from("<i", data, pos)
    pos += 4
    for _ in range(n_words):
        (length,) = struct.unpack_from("<i", data, pos)
        pos += 4 + length
    struct.pack_into("<i", data, pos + 8, 8)
    quant = work_dir("cli") / "ggml-q8.bin"
    quant.write_bytes(bytes(data))
    assert_clean_error(run_wisp("transcribe", jfk, "--model", quant), str(quant), "encoder.conv1.weight",
                       "corrupt file")


def test_unknown_compute_type(tiny, jfk):
    assert_clean_error(run_wisp("transcribe", jfk, "--model", tiny, "--compute_type", "int4"), "int4", "float16", "int16",
                       code=2)


@pytest.mark.parametrize("compute", ["float16", "bfloat16", "int16"])
def test_fp16_false_contradicts_reduced_compute(tiny, jfk, compute):
    assert_clean_error(run_wisp("transcribe", jfk, "--model", tiny, "--fp16", "False", "--compute_type", compute),
                       "--fp16 False contradicts --compute_type " + compute)


def test_bfloat16_compute_without_bf16_cpu(tiny, jfk):
    if b"avx512_bf16" in Path("/proc/cpuinfo").read_bytes():
        pytest.skip("this CPU has AVX512_BF16: bfloat16 compute is available")
    assert_clean_error(run_wisp("transcribe", jfk, "--model", tiny, "--compute_type", "bfloat16"),
                       "AVX512_BF16", "--compute_type float16")

"""Shared machinery of the transcription parity tests (test_transcribe_parity*.py): runs
wisp and tests/reference/transcribe_ref.py with one option list and compares the results."""
import json
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pylib"))
from wisp_testlib import make_model, run_wisp, shared_file, work_dir  # noqa: E402
from audio_ref import load_audio_int16  # noqa: E402
import transcribe_ref  # noqa: E402
from whisper_ref import WhisperRef  # noqa: E402

torch.set_grad_enabled(False)

LONG_CLIPS = ["jfk.flac", "multilingual.mp3", "hotwords.mp3", "zh_test.wav"]
# Seeds whose random models decode varied tokens (see test_model_oracle.py).
SEEDS = {"tiny": 1, "base": 0}
# Word times are round(t, 2) of DTW frame times (multiples of 0.02 s) plus window offsets, and
# of durations clipped to twice a median: float32 against float64 can move such a value across
# a rounding boundary, never by a whole 0.02 s frame (which would be an alignment difference).
WORD_TIME_TOLERANCE = 0.011

_REFS: dict[str, WhisperRef] = {}

# Random models repeat themselves, so most windows fail openai's compression-ratio gate and fall
# back through every temperature with best_of 5 samples each: many minutes of float64 decoding.
# Only the cases about defaults and fallback keep the gate; the others turn it off.
NO_FALLBACK = ["--compression_ratio_threshold", "None"]
# Decision margins of the reference (log-probabilities, see decoding_ref.DECISION_MARGINS) below
# this count as ties for float32.
DECISION_TIE = 1e-2


def jfk_path() -> Path:
    return shared_file("audio/jfk.flac")


def long_wav_path() -> Path:
    """The shared clips concatenated (16 kHz mono 16-bit WAV), written once per build tree."""
    path = work_dir("transcribe-parity") / "long.wav"
    if not path.exists():
        samples = np.concatenate([load_audio_int16(str(shared_file(f"audio/{name}")))
                                  for name in LONG_CLIPS])
        tmp = path.with_suffix(".tmp.wav")
        with wave.open(str(tmp), "wb") as f:
            f.setnchannels(1)
            f.setsampwidth(2)
            f.setframerate(16000)
            f.writeframes(samples.astype("<i2").tobytes())
        tmp.rename(path)
    return path


def model_ref(size: str) -> tuple[Path, WhisperRef]:
    model = make_model(size, seed=SEEDS[size])
    if size not in _REFS:
        _REFS[size] = WhisperRef(str(model))
    return model, _REFS[size]


def run_reference(ref: WhisperRef, audio: Path, options: list[str]) -> dict:
    return transcribe_ref.transcribe_argv(ref, str(audio), options)


def run_wisp_json(model: Path, audio: Path, options: list[str]) -> dict:
    result = run_wisp("transcribe", audio, "--model", model, "--output_format", "json", *options)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return json.loads(result.stdout)


def assert_same_result(actual: dict, expected: dict, word_timestamps: bool) -> None:
    assert actual["language"] == expected["language"]
    if "language_probs" in expected:
        for code, p in expected["language_probs"].items():
            assert actual["language_probs"][code] == pytest.approx(p, abs=1e-4), code
    got, want = actual["segments"], expected["segments"]
    assert [s["tokens"] for s in got] == [s["tokens"] for s in want]
    assert len(got) == len(want)
    for a, e in zip(got, want):
        where = f"segment {e['id']}"
        assert a["id"] == e["id"], where
        assert a["seek"] == e["seek"], where
        assert a["start"] == pytest.approx(e["start"], abs=1e-6), where
        assert a["end"] == pytest.approx(e["end"], abs=1e-6), where
        assert a["text"] == e["text"], where
        assert a["temperature"] == pytest.approx(e["temperature"], abs=1e-12), where
        assert a["no_speech_prob"] == pytest.approx(e["no_speech_prob"], rel=1e-3, abs=1e-4), where
        # A decision of the window's decode within float32 noise of a tie (wisp's logits differ
        # from the float64 reference by up to ~3e-3) may go the other way in wisp: a timestamp
        # rule masking the text logits, or a greedy step picking the runner-up token and from
        # there another continuation past the last segment. The segments' tokens still agree
        # (asserted above); avg_logprob and compression_ratio cover the whole decode.
        if e.get("decision_margin", float("inf")) >= DECISION_TIE:
            assert a["avg_logprob"] == pytest.approx(e["avg_logprob"], rel=1e-3, abs=1e-3), where
            assert a["compression_ratio"] == pytest.approx(e["compression_ratio"], rel=1e-6), where
        if word_timestamps:
            assert [w["word"] for w in a["words"]] == [w["word"] for w in e["words"]], where
            for wa, we in zip(a["words"], e["words"]):
                assert wa["start"] == pytest.approx(we["start"], abs=WORD_TIME_TOLERANCE), where
                assert wa["end"] == pytest.approx(we["end"], abs=WORD_TIME_TOLERANCE), where
                assert wa["probability"] == pytest.approx(we["probability"], abs=1e-3), where
    assert actual["text"] == expected["text"]


def compare(size: str, audio: Path, options: list[str]) -> dict:
    """Runs both, asserts they agree, returns the reference result for the case's own checks."""
    model, ref = model_ref(size)
    if "--beam_size" not in options:
        # Both CLIs default to beam 5 as openai-whisper's does; greedy keeps most cases fast.
        options = [*options, "--beam_size", "None"]
    word_timestamps = "--word_timestamps" in options and \
        options[options.index("--word_timestamps") + 1] == "True"
    if word_timestamps:
        pytest.importorskip("alignment_ref", reason="tests/reference/alignment_ref.py is missing")
    expected = run_reference(ref, audio, options)
    assert any(s["tokens"] for s in expected["segments"]), "no text at all: pick another seed"
    actual = run_wisp_json(model, audio, options)
    assert_same_result(actual, expected, word_timestamps)
    return expected


# ---- what makes a case non-trivial ----------------------------------------------------------


def timestamp_begin(size: str) -> int:
    return model_ref(size)[1].tokens.timestamp_begin


def windows(result: dict) -> dict[int, list[dict]]:
    by_seek: dict[int, list[dict]] = {}
    for s in result["segments"]:
        by_seek.setdefault(s["seek"], []).append(s)
    return by_seek


def assert_split_inside_a_window(result: dict) -> None:
    """Some window was cut at a timestamp pair: it holds two segments, or the next window
    starts at its last timestamp instead of 30 s later."""
    seeks = sorted(windows(result))
    two_segments = any(len(segments) >= 2 for segments in windows(result).values())
    seek_to_timestamp = any(b - a < 3000 for a, b in zip(seeks, seeks[1:]))
    assert two_segments or seek_to_timestamp, \
        "no window was split at timestamps; the segment-splitting path went untested"


# Fixtures the parity test modules import.
@pytest.fixture(scope="module")
def jfk() -> Path:
    return jfk_path()


@pytest.fixture(scope="module")
def long_wav() -> Path:
    return long_wav_path()

"""`wisp transcribe` end to end: input from files and stdin, output formats, option spellings."""
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pylib"))
from wisp_testlib import make_model, run_wisp, shared_file  # noqa: E402


@pytest.fixture(scope="module")
def tiny():
    return make_model("tiny")


def transcribe_json(*args, **kwargs):
    result = run_wisp("transcribe", *args, "--output_format", "json", **kwargs)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return json.loads(result.stdout)


def test_json_has_openai_result_shape(tiny):
    result = transcribe_json(shared_file("audio/jfk.flac"), "--model", tiny)
    assert list(result)[:3] == ["text", "segments", "language"]
    segment = result["segments"][0]
    for key in ("id", "seek", "start", "end", "text", "tokens", "temperature", "avg_logprob",
                "compression_ratio", "no_speech_prob"):
        assert key in segment
    assert segment["start"] == 0.0 and segment["end"] == pytest.approx(11.0)
    assert abs(sum(result["language_probs"].values()) - 1.0) < 1e-6


def test_stdin_gives_the_same_result_as_the_file(tiny):
    audio = shared_file("audio/jfk.mp3")
    from_file = transcribe_json(audio, "--model", tiny, "--language", "en")
    from_stdin = transcribe_json("-", "--model", tiny, "--language", "en", input_bytes=audio.read_bytes())
    assert from_stdin["segments"][0]["tokens"] == from_file["segments"][0]["tokens"]


def test_thread_count_does_not_change_tokens(tiny):
    audio = shared_file("audio/jfk.flac")
    one = transcribe_json(audio, "--model", tiny, "--threads", "1", "--language", "en")
    two = transcribe_json(audio, "--model", tiny, "--threads", "2", "--language", "en")
    assert one["segments"][0]["tokens"] == two["segments"][0]["tokens"]


def test_txt_output_and_several_files(tiny):
    clips = [shared_file("audio/jfk.flac"), shared_file("audio/hotwords.mp3")]
    result = run_wisp("transcribe", *clips, "--model", tiny, "--language", "en")
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    out = result.stdout.decode()
    for clip in clips:
        assert f"==> {clip} <==" in out
    assert len(out.strip().splitlines()) >= 4


def test_translate_task_runs(tiny):
    # The tokens of a translate run are checked against the reference in test_model_oracle.py.
    translated = transcribe_json(shared_file("audio/jfk.flac"), "--model", tiny, "--language", "de",
                                 "--task", "translate")
    assert translated["language"] == "de" and translated["segments"]


def test_english_only_model_ignores_other_languages():
    model = make_model("tiny.en")
    result = run_wisp("transcribe", shared_file("audio/jfk.flac"), "--model", model, "--language", "de", "-f", "json")
    assert result.returncode == 0
    assert json.loads(result.stdout)["language"] == "en"
    assert b"English-only" in result.stderr


def test_language_names_are_accepted(tiny):
    result = transcribe_json(shared_file("audio/jfk.flac"), "--model", tiny, "--language", "German")
    assert result["language"] == "de"

"""`wisp transcribe` end to end: input from files and stdin, output formats, option spellings."""
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pylib"))
from wisp_testlib import make_model, run_wisp, shared_file, work_dir  # noqa: E402


@pytest.fixture(scope="module")
def tiny():
    return make_model("tiny")


# Greedy without fallback keeps these tests fast; search and fallback are covered by the parity
# tests against the reference (tests/oracle/test_transcribe_parity.py).
FAST = ("--beam_size", "None", "--temperature_increment_on_fallback", "None")


def transcribe_json(*args, **kwargs):
    result = run_wisp("transcribe", *args, *FAST, "--output_format", "json", **kwargs)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return json.loads(result.stdout)


def test_json_has_openai_result_shape(tiny):
    result = transcribe_json(shared_file("audio/jfk.flac"), "--model", tiny, "--without_timestamps", "True")
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
    result = run_wisp("transcribe", *clips, "--model", tiny, "--language", "en", *FAST)
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
    result = run_wisp("transcribe", shared_file("audio/jfk.flac"), "--model", model, "--language", "de", "-f", "json",
                      *FAST)
    assert result.returncode == 0
    assert json.loads(result.stdout)["language"] == "en"
    assert b"English-only" in result.stderr


def test_language_names_are_accepted(tiny):
    result = transcribe_json(shared_file("audio/jfk.flac"), "--model", tiny, "--language", "German")
    assert result["language"] == "de"


def test_output_dir_writes_every_format(tiny):
    out = work_dir("cli-output") / "all"
    audio = shared_file("audio/jfk.flac")
    result = run_wisp("transcribe", audio, "--model", tiny, "--language", "en", *FAST, "--output_dir", out)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert result.stdout == b""
    for ext in ("txt", "vtt", "srt", "tsv", "json"):
        assert (out / f"jfk.{ext}").stat().st_size > 0, ext
    data = json.loads((out / "jfk.json").read_text())
    assert (out / "jfk.vtt").read_text().startswith("WEBVTT\n\n")
    srt = (out / "jfk.srt").read_text()
    assert srt.startswith("1\n00:00:0") and " --> " in srt
    tsv = (out / "jfk.tsv").read_text().splitlines()
    assert tsv[0] == "start\tend\ttext" and len(tsv) == len(data["segments"]) + 1
    first = data["segments"][0]
    assert tsv[1].split("\t")[:2] == [str(round(first["start"] * 1000)), str(round(first["end"] * 1000))]
    txt = (out / "jfk.txt").read_text().splitlines()
    assert txt == [s["text"].strip() for s in data["segments"]]


def test_several_files_as_json_on_stdout(tiny):
    clips = [shared_file("audio/jfk.flac"), shared_file("audio/hotwords.mp3")]
    result = run_wisp("transcribe", *clips, "--model", tiny, "--language", "en", *FAST, "-f", "json")
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    results = json.loads(result.stdout)
    assert len(results) == 2 and all(r["segments"] for r in results)


def test_verbose_prints_segments_as_decoded(tiny):
    result = run_wisp("transcribe", shared_file("audio/jfk.flac"), "--model", tiny, "--language", "en", *FAST,
                      "--verbose", "True", "-f", "json")
    assert result.returncode == 0
    data = json.loads(result.stdout)
    err = result.stderr.decode(errors="replace")
    first = data["segments"][0]
    assert f"[00:{first['start']:06.3f} --> 00:{first['end']:06.3f}]" in err


def test_progress_bar_for_inputs_longer_than_a_window(tiny):
    long_audio = work_dir("cli-output") / "long.wav"
    if not long_audio.exists():
        import subprocess
        jfk = shared_file("audio/jfk.flac")
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", jfk, "-i", jfk, "-i", jfk, "-i", jfk,
                        "-filter_complex", "concat=n=4:v=0:a=1", "-ar", "16000", "-ac", "1", long_audio], check=True)
    result = run_wisp("transcribe", long_audio, "--model", tiny, "--language", "en", *FAST, "--progress",
                      "--without_timestamps", "True")
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    err = result.stderr.decode(errors="replace")
    assert "100%" in err and "44.0 s audio" in err
    short = run_wisp("transcribe", shared_file("audio/jfk.flac"), "--model", tiny, "--language", "en", *FAST,
                     "--progress")
    assert b"%" not in short.stderr


def test_bare_and_valued_boolean_options_agree(tiny):
    audio = shared_file("audio/jfk.flac")
    bare = transcribe_json(audio, "--model", tiny, "--language", "en", "--without_timestamps")
    valued = transcribe_json(audio, "--model", tiny, "--language", "en", "--without_timestamps", "True")
    off = transcribe_json(audio, "--model", tiny, "--language", "en", "--without-timestamps=False")
    assert bare == valued
    assert bare["segments"][0]["tokens"] != off["segments"][0]["tokens"]

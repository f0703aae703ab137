"""Transcription parity with the reference: word timestamps and the hallucination-silence
heuristics built on them (see parity_lib.py)."""
import sys
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
from parity_lib import *  # noqa: E402,F401,F403 (helpers and the jfk / long_wav fixtures)


def test_word_timestamps(jfk):
    expected = compare("tiny", jfk, ["--language", "en", "--word_timestamps", "True",
                                     *NO_FALLBACK])
    assert any(s["words"] for s in expected["segments"])


def test_word_timestamps_with_hallucination_silence_threshold(long_wav):
    expected = compare("tiny", long_wav, ["--language", "en", "--word_timestamps", "True",
                                          "--hallucination_silence_threshold", "1", *NO_FALLBACK])
    assert any(s["words"] for s in expected["segments"])

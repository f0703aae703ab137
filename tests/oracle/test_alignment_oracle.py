"""wisp's word-level timestamps (find_alignment, add_word_timestamps) against the float64
reference of openai-whisper's timing.py (tests/reference/alignment_ref.py) on a random-weight
tiny model over jfk.flac, with the clip's transcript as the text tokens."""
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pylib"))
from wisp_testlib import make_model, run_oracle_dump, shared_file, work_dir  # noqa: E402
from alignment_ref import (assign_word_timestamps, default_alignment_heads,  # noqa: E402
                           default_encoding, find_alignment)
from whisper_ref import WhisperRef  # noqa: E402

TRANSCRIPT = (" And so, my fellow Americans, ask not what your country can do for you,"
              " ask what you can do for your country.")


def relative_error(actual: np.ndarray, expected: np.ndarray) -> float:
    return float(np.abs(actual.astype(np.float64) - expected).max() / np.abs(expected).max())


@pytest.fixture(scope="module")
def case():
    model = make_model("tiny", seed=1)
    audio = shared_file("audio/jfk.flac")
    out = work_dir("oracle-alignment")
    ref = WhisperRef(str(model))
    enc = default_encoding(ref.n_vocab)
    text_tokens = enc.encode(TRANSCRIPT)
    assert 20 <= len(text_tokens) <= 60
    run_oracle_dump("alignment", "--model", model, "--audio", audio, "--language", "en",
                    "--tokens", ",".join(map(str, text_tokens)), "--mel-out", out / "mel.npy",
                    "--qk-out", out / "qk.npy", "--out", out / "alignment.json")
    wisp = json.loads((out / "alignment.json").read_text())
    mel = np.load(out / "mel.npy")
    with torch.no_grad():
        features = ref.encoder(torch.from_numpy(mel).double())
    t = ref.tokens
    sot_sequence = [t.sot, t.language_token("en"), t.transcribe]
    heads = default_alignment_heads(ref)
    expected = find_alignment(ref, mel, sot_sequence, text_tokens, wisp["num_frames"], "en", heads,
                              encoding=enc, audio_features=features)
    return {"ref": ref, "out": out, "wisp": wisp, "text_tokens": text_tokens, "features": features,
            "sot_sequence": sot_sequence, "heads": heads, "expected": expected}


def test_setup_matches(case):
    wisp = case["wisp"]
    assert wisp["sot_sequence"] == case["sot_sequence"]
    assert [tuple(h) for h in wisp["alignment_heads"]] == case["heads"]
    assert wisp["num_frames"] == 1100  # jfk.flac is 11.0 s


def test_cross_attention_scores_match_reference(case):
    ref, t = case["ref"], case["ref"].tokens
    tokens = [*case["sot_sequence"], t.no_timestamps, *case["text_tokens"], t.eot]
    with torch.no_grad():
        _, qk = ref.decoder_logits_and_cross_qk(tokens, case["features"])
    layer, head = case["heads"][0]
    expected = qk[layer, head].numpy()
    actual = np.load(case["out"] / "qk.npy")
    assert actual.shape == expected.shape == (len(tokens), ref.n_audio_ctx)
    error = relative_error(actual, expected)
    print(f"qk relative error {error:.2e}")
    assert error < 1e-4


def test_find_alignment_matches_reference(case):
    actual = case["wisp"]["alignment"]
    expected = case["expected"]
    assert [w["word"] for w in actual] == [w.word for w in expected]
    assert [w["tokens"] for w in actual] == [w.tokens for w in expected]
    assert [(w["start"], w["end"]) for w in actual] == [(w.start, w.end) for w in expected]
    # The random model finds the transcript very unlikely (probabilities ~1e-40): compare logs.
    for a, e in zip(actual, expected):
        assert a["probability"] > 0
        assert math.log(a["probability"]) == pytest.approx(math.log(e.probability), rel=1e-4, abs=1e-3)
    # A random model still spreads the words over the clip: the comparison is not vacuous.
    assert len({w.start for w in expected}) >= 5, "degenerate alignment; pick another seed"


def test_add_word_timestamps_matches_reference(case):
    ref, wisp = case["ref"], case["wisp"]
    segment = {"seek": 0, "start": 0.0, "end": wisp["num_frames"] / 100,
               "tokens": case["text_tokens"] + [ref.tokens.eot]}
    alignment = [type(w)(w.word, list(w.tokens), w.start, w.end, w.probability) for w in case["expected"]]
    last_speech = assign_word_timestamps([segment], alignment, ref.tokens.eot, last_speech_timestamp=0.0)
    actual = wisp["segment"]
    assert [w["word"] for w in actual["words"]] == [w["word"] for w in segment["words"]]
    assert [w["tokens"] for w in actual["words"]] == [w["tokens"] for w in segment["words"]]
    assert [(w["start"], w["end"]) for w in actual["words"]] == \
        [(w["start"], w["end"]) for w in segment["words"]]
    assert (actual["start"], actual["end"]) == (segment["start"], segment["end"])
    assert wisp["last_speech_timestamp"] == last_speech
    # Punctuation merged: "so," and "Americans," are single words.
    assert " so," in [w["word"] for w in actual["words"]]

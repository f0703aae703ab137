"""openai-whisper's DecodingTask at temperature 0 (greedy), in float64, for the reference model.

A thin front of decoding_ref (which holds openai's decoding rules: initial tokens, logit filters
in openai's order, decoders, ranking) that also detects the language when none is given, as
openai's DecodingTask does. no_speech_prob comes from the unfiltered logits at the sot position
of the first forward pass, and avg_logprob = sum_logprob / (len(tokens) + 1).
"""

from __future__ import annotations

import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))

from decoding_ref import (  # noqa: E402,F401  (re-exported: tests import them from here)
    BLANK_TOKEN, MAX_INITIAL_TIMESTAMP_INDEX, NEG_INF, DecodingOptions, DecodingTask, Tokenizer,
    apply_timestamp_rules, load_encoding, suppress_blank)


def initial_tokens(ref, language: str | None, task: str, without_timestamps: bool,
                   prompt: list[int] | None) -> list[int]:
    options = DecodingOptions(task=task, language=language or "en",
                              without_timestamps=without_timestamps, prompt=prompt,
                              suppress_tokens=None)
    return DecodingTask(ref, None, options).initial_tokens


@torch.no_grad()
def greedy_decode(ref, mel, language: str | None = None, task: str = "transcribe",
                  without_timestamps: bool = True, sample_len: int | None = None,
                  prompt: list[int] | None = None) -> dict:
    if task not in ("transcribe", "translate"):
        raise ValueError(f"unknown task {task!r}")
    special = ref.tokens
    features = ref.encoder(mel)
    language_probs = None
    if not special.multilingual:
        if language not in (None, "en"):
            raise ValueError(f"an English-only model cannot decode language {language!r}")
        language = "en"
    elif language is None:
        language, language_probs = ref.detect_language(features)

    encoding = load_encoding(ref.n_vocab)
    tokenizer = Tokenizer(encoding, language, task) if encoding is not None else None
    # The checkpoint's own suppress list (the hub's non-speech tokens) plus the specials.
    options = DecodingOptions(task=task, language=language, sample_len=sample_len,
                              prompt=prompt, suppress_tokens=ref.suppress_tokens(),
                              without_timestamps=without_timestamps)
    decoded = DecodingTask(ref, tokenizer, options).run(features)
    sampled = decoded.tokens
    result = {
        "language": language,
        "initial_tokens": decoded.initial_tokens,
        "tokens": sampled,
        "text": tokenizer.decode(sampled) if tokenizer is not None else None,
        "sum_logprob": decoded.sum_logprob,
        "avg_logprob": decoded.avg_logprob,
        "no_speech_prob": decoded.no_speech_prob,
        "ended_with_eot": decoded.ended_with_eot,
    }
    if language_probs is not None:
        result["language_probs"] = language_probs
    return result

"""openai-whisper's DecodingTask at temperature 0 (greedy), in float64, for the reference model.

Mirrors openai's decoding.py: initial tokens ([sot_prev, prompt…] + sot sequence), language
detection when no language is given, logit filters in openai's order (SuppressBlank,
SuppressTokens, ApplyTimestampRules when timestamps are on), argmax, log-probabilities from the
filtered logits, no_speech_prob from the unfiltered logits at the sot position of the first
forward pass, and avg_logprob = sum_logprob / (len(tokens) + 1).
"""

from __future__ import annotations

import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))

MAX_INITIAL_TIMESTAMP_INDEX = 50  # openai's max_initial_timestamp=1.0 at 0.02 s per step
BLANK_TOKEN = 220  # encode(" ") in both the gpt2 and the multilingual vocabularies
NEG_INF = float("-inf")


def suppress_blank(logits: torch.Tensor, tokens: list[int], sample_begin: int, eot: int) -> None:
    if len(tokens) == sample_begin:
        logits[[BLANK_TOKEN, eot]] = NEG_INF


def apply_timestamp_rules(logits: torch.Tensor, tokens: list[int], sample_begin: int,
                          special) -> None:
    """openai's ApplyTimestampRules for one sequence."""
    ts_begin, eot = special.timestamp_begin, special.eot
    logits[special.no_timestamps] = NEG_INF

    # Timestamps come in pairs, except directly before eot.
    seq = tokens[sample_begin:]
    last_was_timestamp = len(seq) >= 1 and seq[-1] >= ts_begin
    penultimate_was_timestamp = len(seq) < 2 or seq[-2] >= ts_begin
    if last_was_timestamp:
        if penultimate_was_timestamp:
            logits[ts_begin:] = NEG_INF  # has to be a non-timestamp
        else:
            logits[:eot] = NEG_INF  # cannot be normal text

    # Timestamps must not decrease, and a segment must not be empty.
    timestamps = [t for t in seq if t >= ts_begin]
    if timestamps:
        if last_was_timestamp and not penultimate_was_timestamp:
            timestamp_last = timestamps[-1]
        else:
            timestamp_last = timestamps[-1] + 1
        logits[ts_begin:timestamp_last] = NEG_INF

    if len(tokens) == sample_begin:
        logits[:ts_begin] = NEG_INF  # the first sampled token is a timestamp
        logits[ts_begin + MAX_INITIAL_TIMESTAMP_INDEX + 1 :] = NEG_INF

    # If the timestamps together are likelier than any text token, sample a timestamp.
    logprobs = torch.log_softmax(logits, dim=-1)
    if logprobs[ts_begin:].logsumexp(dim=-1) > logprobs[:ts_begin].max():
        logits[:ts_begin] = NEG_INF


def initial_tokens(ref, language: str | None, task: str, without_timestamps: bool,
                   prompt: list[int] | None) -> list[int]:
    t = ref.tokens
    sequence = [t.sot]
    if t.multilingual:  # openai's English-only tokenizer has no language or task token
        sequence += [t.language_token(language), t.transcribe if task == "transcribe"
                     else t.translate]
    if without_timestamps:
        sequence.append(t.no_timestamps)
    if prompt:
        sequence = [t.sot_prev] + list(prompt)[-(ref.n_text_ctx // 2 - 1) :] + sequence
    return sequence


def _text(ref, tokens: list[int]) -> str | None:
    """The transcript, if the tokenizer ranks can be found (shared assets)."""
    shared = os.environ.get("WISP_SHARED", os.path.join(HERE, "..", "..", "..", "shared"))
    name = "multilingual.tiktoken" if ref.tokens.multilingual else "gpt2.tiktoken"
    path = os.path.join(shared, "assets", name)
    if not os.path.isfile(path):
        return None
    from tiktoken_bpe import Encoding, load_ranks

    return Encoding(load_ranks(path), ref.n_vocab).decode(tokens)


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

    tokens = initial_tokens(ref, language, task, without_timestamps, prompt)
    sample_begin = len(tokens)
    sot_index = tokens.index(special.sot)
    sample_len = sample_len or ref.n_text_ctx // 2
    suppress = ref.suppress_tokens()

    state = ref.new_state(features)
    pending = list(tokens)
    sum_logprob = 0.0
    no_speech_prob = None
    for step in range(sample_len):
        all_logits = ref.decode_step(pending, state)
        if step == 0:
            no_speech_prob = torch.softmax(all_logits[sot_index], -1)[special.no_speech].item()
        logits = all_logits[-1].clone()
        suppress_blank(logits, tokens, sample_begin, special.eot)
        logits[suppress] = NEG_INF
        if not without_timestamps:
            apply_timestamp_rules(logits, tokens, sample_begin, special)
        next_token = int(logits.argmax())
        sum_logprob += torch.log_softmax(logits, dim=-1)[next_token].item()
        tokens.append(next_token)
        if next_token == special.eot or len(tokens) > ref.n_text_ctx:
            break
        pending = [next_token]

    sampled = tokens[sample_begin:]
    if special.eot in sampled:
        sampled = sampled[: sampled.index(special.eot)]
    result = {
        "language": language,
        "initial_tokens": tokens[:sample_begin],
        "tokens": sampled,
        "text": _text(ref, sampled),
        "sum_logprob": sum_logprob,
        "avg_logprob": sum_logprob / (len(sampled) + 1),
        "no_speech_prob": no_speech_prob,
        "ended_with_eot": len(tokens) > sample_begin and tokens[-1] == special.eot,
    }
    if language_probs is not None:
        result["language_probs"] = language_probs
    return result

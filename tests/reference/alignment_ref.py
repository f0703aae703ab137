#!/usr/bin/python3
"""Reference of openai-whisper's word-level timestamps (timing.py), on top of WhisperRef.

Written from the published algorithm: cross-attention scores of the alignment heads, softmax
over time, standardisation over tokens, median filter, DTW, word splitting, punctuation merging
and add_word_timestamps' boundary rules. The model runs in float64; the DTW keeps openai's float32
cost array so that its tie-breaking is reproduced.

    words = find_alignment(ref, mel_window, sot_sequence, text_tokens, num_frames, "en", heads)
    last_speech = add_word_timestamps(ref, segments, mel_window, sot_sequence, "en", num_frames,
                                      last_speech_timestamp=0.0)
"""

from __future__ import annotations

import os
import string
import sys
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))

from tiktoken_bpe import load_encoding  # noqa: E402

TOKENS_PER_SECOND = 50  # audio positions per second
HOP_LENGTH = 160
SAMPLE_RATE = 16000
PREPEND_PUNCTUATIONS = "\"'“¿([{-"
APPEND_PUNCTUATIONS = "\"'.。,，!！?？:：”)]}、"
NO_SPACE_LANGUAGES = {"zh", "ja", "th", "lo", "my", "yue"}


@dataclass
class WordTiming:
    word: str
    tokens: list[int]
    start: float
    end: float
    probability: float = 0.0


def default_encoding(n_vocab: int):
    """The tiktoken ranks for the vocabulary, from ../shared/assets (or $WISP_SHARED/assets)."""
    shared = os.environ.get("WISP_SHARED", os.path.join(HERE, "..", "..", "..", "shared"))
    name = "multilingual.tiktoken" if n_vocab >= 51865 else "gpt2.tiktoken"
    return load_encoding(os.path.join(shared, "assets", name), n_vocab)


def default_alignment_heads(ref) -> list[tuple[int, int]]:
    """The checkpoint's alignment heads, else all heads of the upper half of the decoder."""
    heads = ref.generation_config.get("alignment_heads")
    if heads:
        return sorted({(int(l), int(h)) for l, h in heads})
    return [(l, h) for l in range(ref.n_decoder_layers // 2, ref.n_decoder_layers)
            for h in range(ref.n_decoder_heads)]


# ---- numerics ----------------------------------------------------------------------------

def median_filter(x: torch.Tensor, filter_width: int) -> torch.Tensor:
    """Median of a `filter_width` window along the last axis, reflect-padded."""
    pad = filter_width // 2
    if x.shape[-1] <= pad:
        return x
    shape = x.shape
    padded = F.pad(x.reshape(-1, 1, shape[-1]), (pad, pad), mode="reflect")[:, 0]
    return padded.unfold(-1, filter_width, 1).sort()[0][..., pad].reshape(shape)


def dtw(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """openai's dtw_cpu + backtrace: float32 accumulated cost, ties to left over up over diagonal."""
    n, m = x.shape
    cost = np.full((n + 1, m + 1), np.inf, dtype=np.float32)
    trace = -np.ones((n + 1, m + 1), dtype=np.float32)
    cost[0, 0] = 0
    for j in range(1, m + 1):
        for i in range(1, n + 1):
            c0, c1, c2 = cost[i - 1, j - 1], cost[i - 1, j], cost[i, j - 1]
            if c0 < c1 and c0 < c2:
                c, t = c0, 0
            elif c1 < c0 and c1 < c2:
                c, t = c1, 1
            else:
                c, t = c2, 2
            cost[i, j] = x[i - 1, j - 1] + float(c)
            trace[i, j] = t
    i, j = n, m
    trace[0, :] = 2
    trace[:, 0] = 1
    path = []
    while i > 0 or j > 0:
        path.append((i - 1, j - 1))
        t = trace[i, j]
        if t == 0:
            i, j = i - 1, j - 1
        elif t == 1:
            i -= 1
        elif t == 2:
            j -= 1
        else:
            raise ValueError("unexpected trace value")
    path = np.array(path[::-1])
    return path[:, 0], path[:, 1]


# ---- words -------------------------------------------------------------------------------

def _decode_with_timestamps(enc, tokens: list[int]) -> str:
    return enc.decode_bytes(tokens).decode("utf-8", errors="replace")


def split_tokens_on_unicode(enc, tokens: list[int]):
    full = _decode_with_timestamps(enc, tokens)
    words, word_tokens, current, offset = [], [], [], 0
    for token in tokens:
        current.append(token)
        decoded = _decode_with_timestamps(enc, current)
        if "\ufffd" not in decoded or full[offset + decoded.index("\ufffd")] == "\ufffd":
            words.append(decoded)
            word_tokens.append(current)
            current = []
            offset += len(decoded)
    return words, word_tokens


def split_tokens_on_spaces(enc, tokens: list[int]):
    subwords, subword_tokens_list = split_tokens_on_unicode(enc, tokens)
    words, word_tokens = [], []
    for subword, subword_tokens in zip(subwords, subword_tokens_list):
        special = subword_tokens[0] >= enc.eot
        with_space = subword.startswith(" ")
        punctuation = subword.strip() in string.punctuation
        if special or not words or with_space or punctuation:
            words.append(subword)
            word_tokens.append(subword_tokens)
        else:
            words[-1] = words[-1] + subword
            word_tokens[-1].extend(subword_tokens)
    return words, word_tokens


def split_to_word_tokens(enc, tokens: list[int], language: str):
    if language in NO_SPACE_LANGUAGES:
        return split_tokens_on_unicode(enc, tokens)
    return split_tokens_on_spaces(enc, tokens)


# ---- find_alignment ----------------------------------------------------------------------

def alignment_qk(ref, audio_features, sot_sequence, text_tokens, alignment_heads):
    """(logits [T, n_vocab], qk of the heads [H, T, n_audio_ctx]) of the alignment sequence."""
    tokens = [*sot_sequence, ref.tokens.no_timestamps, *text_tokens, ref.tokens.eot]
    with torch.no_grad():
        logits, qk = ref.decoder_logits_and_cross_qk(tokens, audio_features)
    return logits, torch.stack([qk[l, h] for l, h in alignment_heads])


def find_alignment(ref, mel_window, sot_sequence, text_tokens, num_frames, language,
                   alignment_heads=None, *, medfilt_width=7, encoding=None,
                   audio_features=None) -> list[WordTiming]:
    if len(text_tokens) == 0:
        return []
    enc = encoding or default_encoding(ref.n_vocab)
    heads = sorted(alignment_heads) if alignment_heads else default_alignment_heads(ref)
    if audio_features is None:
        with torch.no_grad():
            audio_features = ref.encoder(torch.as_tensor(mel_window).double())
    eot = ref.tokens.eot
    logits, weights = alignment_qk(ref, audio_features, sot_sequence, text_tokens, heads)
    token_probs = logits[len(sot_sequence):, :eot].softmax(dim=-1)
    text_token_probs = token_probs[np.arange(len(text_tokens)), text_tokens].tolist()

    weights = weights[:, :, : num_frames // 2].softmax(dim=-1)
    std, mean = torch.std_mean(weights, dim=-2, keepdim=True, unbiased=False)
    weights = median_filter((weights - mean) / std, medfilt_width)
    matrix = weights.mean(dim=0)[len(sot_sequence):-1]
    text_indices, time_indices = dtw(-matrix.double().numpy())

    words, word_tokens = split_to_word_tokens(enc, text_tokens + [eot], language)
    if len(word_tokens) <= 1:
        return []
    word_boundaries = np.pad(np.cumsum([len(t) for t in word_tokens[:-1]]), (1, 0))
    jumps = np.pad(np.diff(text_indices), (1, 0), constant_values=1).astype(bool)
    jump_times = time_indices[jumps] / TOKENS_PER_SECOND
    start_times = jump_times[word_boundaries[:-1]]
    end_times = jump_times[word_boundaries[1:]]
    probabilities = [np.mean(text_token_probs[i:j])
                     for i, j in zip(word_boundaries[:-1], word_boundaries[1:])]
    return [WordTiming(w, t, float(s), float(e), float(p))
            for w, t, s, e, p in zip(words, word_tokens, start_times, end_times, probabilities)]


# ---- add_word_timestamps -----------------------------------------------------------------

def merge_punctuations(alignment: list[WordTiming], prepended: str, appended: str) -> None:
    i, j = len(alignment) - 2, len(alignment) - 1
    while i >= 0:
        previous, following = alignment[i], alignment[j]
        if previous.word.startswith(" ") and previous.word.strip() in prepended:
            following.word = previous.word + following.word
            following.tokens = previous.tokens + following.tokens
            previous.word, previous.tokens = "", []
        else:
            j = i
        i -= 1
    i, j = 0, 1
    while j < len(alignment):
        previous, following = alignment[i], alignment[j]
        if not previous.word.endswith(" ") and following.word in appended:
            previous.word = previous.word + following.word
            previous.tokens = previous.tokens + following.tokens
            following.word, following.tokens = "", []
        else:
            i = j
        j += 1


def assign_word_timestamps(segments: list[dict], alignment: list[WordTiming], eot: int,
                           prepend_punctuations: str = PREPEND_PUNCTUATIONS,
                           append_punctuations: str = APPEND_PUNCTUATIONS,
                           last_speech_timestamp: float = 0.0) -> float:
    """The part of openai's add_word_timestamps after find_alignment. Sets segment["words"]
    (dicts word/start/end/probability/tokens) and moves segment start/end; returns the
    last_speech_timestamp that openai's function ends with (local to it there)."""
    text_tokens_per_segment = [[t for t in s["tokens"] if t < eot] for s in segments]
    word_durations = np.array([t.end - t.start for t in alignment])
    word_durations = word_durations[word_durations.nonzero()]
    median_duration = np.median(word_durations) if len(word_durations) > 0 else 0.0
    median_duration = min(0.7, float(median_duration))
    max_duration = median_duration * 2

    if len(word_durations) > 0:
        sentence_end_marks = ".。!！?？"
        for i in range(1, len(alignment)):
            if alignment[i].end - alignment[i].start > max_duration:
                if alignment[i].word in sentence_end_marks:
                    alignment[i].end = alignment[i].start + max_duration
                elif alignment[i - 1].word in sentence_end_marks:
                    alignment[i].start = alignment[i].end - max_duration

    merge_punctuations(alignment, prepend_punctuations, append_punctuations)
    time_offset = segments[0]["seek"] * HOP_LENGTH / SAMPLE_RATE
    word_index = 0
    for segment, text_tokens in zip(segments, text_tokens_per_segment):
        saved_tokens = 0
        words = []
        while word_index < len(alignment) and saved_tokens < len(text_tokens):
            timing = alignment[word_index]
            if timing.word:
                words.append(dict(word=timing.word, start=round(time_offset + timing.start, 2),
                                  end=round(time_offset + timing.end, 2),
                                  probability=timing.probability, tokens=timing.tokens))
            saved_tokens += len(timing.tokens)
            word_index += 1

        if len(words) > 0:
            if words[0]["end"] - last_speech_timestamp > median_duration * 4 and (
                words[0]["end"] - words[0]["start"] > max_duration
                or (len(words) > 1 and words[1]["end"] - words[0]["start"] > max_duration * 2)
            ):
                if len(words) > 1 and words[1]["end"] - words[1]["start"] > max_duration:
                    boundary = max(words[1]["end"] / 2, words[1]["end"] - max_duration)
                    words[0]["end"] = words[1]["start"] = boundary
                words[0]["start"] = max(0, words[0]["end"] - max_duration)

            if segment["start"] < words[0]["end"] and segment["start"] - 0.5 > words[0]["start"]:
                words[0]["start"] = max(0, min(words[0]["end"] - median_duration, segment["start"]))
            else:
                segment["start"] = words[0]["start"]

            if segment["end"] > words[-1]["start"] and segment["end"] + 0.5 < words[-1]["end"]:
                words[-1]["end"] = max(words[-1]["start"] + median_duration, segment["end"])
            else:
                segment["end"] = words[-1]["end"]

            last_speech_timestamp = segment["end"]
        segment["words"] = words
    return last_speech_timestamp


def add_word_timestamps(ref, segments: list[dict], mel_window, sot_sequence, language: str,
                        num_frames: int, prepend_punctuations: str = PREPEND_PUNCTUATIONS,
                        append_punctuations: str = APPEND_PUNCTUATIONS,
                        last_speech_timestamp: float = 0.0, alignment_heads=None, *,
                        encoding=None, audio_features=None) -> float:
    """openai's add_word_timestamps over one window's segments (dicts with seek, start, end,
    tokens). Returns the updated last_speech_timestamp (openai keeps it local; its transcribe()
    then sets it to the last word's end)."""
    if len(segments) == 0:
        return last_speech_timestamp
    eot = ref.tokens.eot
    text_tokens = [t for s in segments for t in s["tokens"] if t < eot]
    alignment = find_alignment(ref, mel_window, sot_sequence, text_tokens, num_frames, language,
                               alignment_heads, encoding=encoding, audio_features=audio_features)
    return assign_word_timestamps(segments, alignment, eot, prepend_punctuations,
                                  append_punctuations, last_speech_timestamp)

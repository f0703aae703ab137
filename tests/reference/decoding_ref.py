"""openai-whisper's decoding (decoding.py) in float64 for the reference model: DecodingOptions,
DecodingTask, the logit filters, greedy/sampling and beam search decoders, and the
maximum-likelihood ranker. Written from openai's published algorithm, not from wisp's C++.

One audio window is decoded at a time. The n_group sequences of openai's batch (beam_size beams
at temperature 0, best_of samples above it) are kept as separate sequences, each with its own
KV cache (WhisperRef's DecoderState); a beam's cache is copied from its source beam, which is
openai's rearrange_kv_cache.

Sampling follows a spec shared with wisp's C++ so sampled transcripts are reproducible: one
MT19937 seeded once per transcription (numpy's RandomState has the same state), one
random_sample() draw per sequence of the group per step (finished ones included), and the token
is the first index whose running sum of exp((l - max l) / T) exceeds draw * total.
"""

from __future__ import annotations

import copy
import math
import os
import sys
import zlib
from dataclasses import dataclass, field, replace

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))

from tiktoken_bpe import Encoding, load_ranks  # noqa: E402

NEG_INF = float("-inf")
BLANK_TOKEN = 220  # encode(" ") in both the gpt2 and the multilingual vocabularies
CHUNK_LENGTH = 30  # seconds of audio per window
MAX_INITIAL_TIMESTAMP_INDEX = 50  # openai's max_initial_timestamp=1.0 at 0.02 s per step


# ---- tokenizer -----------------------------------------------------------------------------


def shared_dir() -> str:
    return os.environ.get("WISP_SHARED", os.path.join(HERE, "..", "..", "..", "shared"))


class Tokenizer:
    """openai's Tokenizer for one language and task: the BPE encoding plus the sot sequence.
    An English-only model has no language or task token (openai's gpt2 tokenizer)."""

    def __init__(self, encoding: Encoding, language: str | None, task: str | None):
        self.encoding = encoding
        self.multilingual = encoding.multilingual
        self.language = language if self.multilingual else None
        self.task = task if self.multilingual else None
        for name in ("eot", "sot", "translate", "transcribe", "sot_lm", "sot_prev", "no_speech",
                     "no_timestamps", "timestamp_begin"):
            setattr(self, name, getattr(encoding, name))
        self.sot_sequence = [self.sot]
        if self.language is not None:
            self.sot_sequence.append(encoding.language_token(self.language))
        if self.task is not None:
            self.sot_sequence.append(self.transcribe if self.task == "transcribe"
                                     else self.translate)
        self.sot_sequence_including_notimestamps = self.sot_sequence + [self.no_timestamps]

    def encode(self, text: str) -> list[int]:
        return self.encoding.encode(text)

    def decode(self, tokens: list[int]) -> str:
        """Text of the tokens without timestamps (invalid UTF-8 becomes U+FFFD)."""
        return self.encoding.decode([t for t in tokens if t < self.timestamp_begin])

    def decode_with_timestamps(self, tokens: list[int]) -> str:
        return self.encoding.decode_bytes(tokens).decode("utf-8", errors="replace")

    @property
    def non_speech_tokens(self) -> list[int]:
        return self.encoding.non_speech_tokens()


_ENCODINGS: dict[tuple[str, int], Encoding] = {}


def load_encoding(n_vocab: int) -> Encoding | None:
    """The BPE encoding for a vocabulary size from the shared rank files (None if missing)."""
    name = "multilingual.tiktoken" if n_vocab >= 51865 else "gpt2.tiktoken"
    path = os.path.join(shared_dir(), "assets", name)
    if not os.path.isfile(path):
        return None
    key = (path, n_vocab)
    if key not in _ENCODINGS:
        _ENCODINGS[key] = Encoding(load_ranks(path), n_vocab)
    return _ENCODINGS[key]


def compression_ratio(text: str) -> float:
    text_bytes = text.encode("utf-8")
    return len(text_bytes) / len(zlib.compress(text_bytes))


# ---- options and result --------------------------------------------------------------------


@dataclass(frozen=True)
class DecodingOptions:
    task: str = "transcribe"
    language: str | None = None
    temperature: float = 0.0
    sample_len: int | None = None
    best_of: int | None = None
    beam_size: int | None = None
    patience: float | None = None
    length_penalty: float | None = None
    prompt: str | list[int] | None = None
    prefix: str | list[int] | None = None
    suppress_tokens: str | list[int] | None = "-1"
    suppress_blank: bool = True
    without_timestamps: bool = False
    max_initial_timestamp: float | None = 1.0


@dataclass
class DecodingResult:
    language: str
    tokens: list[int] = field(default_factory=list)
    text: str | None = ""
    avg_logprob: float = float("nan")
    sum_logprob: float = float("nan")
    no_speech_prob: float = float("nan")
    temperature: float = float("nan")
    compression_ratio: float | None = float("nan")
    initial_tokens: list[int] = field(default_factory=list)
    ended_with_eot: bool = True  # False when the sample_len or context limit cut it off
    # Smallest DECISION_MARGINS entry of this decode (set by transcribe_ref).
    decision_margin: float = float("inf")


# ---- sampling ------------------------------------------------------------------------------


class SamplingRng:
    """MT19937 seeded like std::mt19937(seed); uniform() is numpy's random_sample()."""

    def __init__(self, seed: int = 0):
        self.state = np.random.RandomState(seed & 0xFFFFFFFF)

    def uniform(self) -> float:
        return float(self.state.random_sample())


def sample_token(logits: torch.Tensor, temperature: float, u: float) -> int:
    values = logits.double().numpy()
    p = np.exp((values - values.max()) / temperature)  # -inf -> 0
    running = np.cumsum(p)  # sequential sum, as the C++ loop accumulates
    return int(np.argmax(running > u * running[-1]))


# ---- logit filters (openai's order: SuppressBlank, SuppressTokens, ApplyTimestampRules) ----


def suppress_blank(logits: torch.Tensor, tokens: list[int], sample_begin: int, eot: int) -> None:
    if len(tokens) == sample_begin:
        logits[[BLANK_TOKEN, eot]] = NEG_INF


# The margins of the numeric decisions made since the caller last cleared the list: |log P(any
# timestamp) - max log P(a text token)| of each timestamp rule, and the gap between the two
# likeliest tokens of each greedy step. A decision this close to a tie may go the other way in a
# float32 engine (another masked row, or another token and from there another continuation):
# parity tests read it.
DECISION_MARGINS: list[float] = []


def apply_timestamp_rules(logits: torch.Tensor, tokens: list[int], sample_begin: int, special,
                          max_initial_timestamp_index: int | None = MAX_INITIAL_TIMESTAMP_INDEX
                          ) -> None:
    """openai's ApplyTimestampRules for one sequence (`special`: anything with eot,
    no_timestamps and timestamp_begin)."""
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
        if max_initial_timestamp_index is not None:
            logits[ts_begin + max_initial_timestamp_index + 1 :] = NEG_INF

    # If the timestamps together are likelier than any text token, sample a timestamp.
    logprobs = torch.log_softmax(logits, dim=-1)
    timestamp_logprob, max_text_logprob = logprobs[ts_begin:].logsumexp(dim=-1), logprobs[:ts_begin].max()
    if torch.isfinite(timestamp_logprob) and torch.isfinite(max_text_logprob):
        DECISION_MARGINS.append(abs(float(timestamp_logprob - max_text_logprob)))
    if timestamp_logprob > max_text_logprob:
        logits[:ts_begin] = NEG_INF


# ---- decoders ------------------------------------------------------------------------------


class GreedyDecoder:
    """argmax at temperature 0, else one shared-RNG draw per sequence per step."""

    def __init__(self, temperature: float, eot: int, rng: SamplingRng | None):
        self.temperature, self.eot, self.rng = temperature, eot, rng
        if temperature > 0 and rng is None:
            raise ValueError("sampling at temperature > 0 needs a SamplingRng")

    def update(self, tokens: list[list[int]], logits: list[torch.Tensor | None],
               sum_logprobs: list[float]) -> bool:
        """Appends one token to every sequence; logits[k] is None for finished sequences."""
        for k, seq in enumerate(tokens):
            u = self.rng.uniform() if self.temperature > 0 else None
            if seq[-1] == self.eot:
                seq.append(self.eot)  # finished: keeps eot, adds no logprob
                continue
            if u is None:
                token = int(logits[k].argmax())
                top2 = torch.topk(logits[k], 2).values
                DECISION_MARGINS.append(float(top2[0] - top2[1]))
            else:
                token = sample_token(logits[k], self.temperature, u)
            sum_logprobs[k] += torch.log_softmax(logits[k], dim=-1)[token].item()
            seq.append(token)
        return all(seq[-1] == self.eot for seq in tokens)

    def finalize(self, tokens: list[list[int]], sum_logprobs: list[float]):
        return [seq + [self.eot] for seq in tokens], list(sum_logprobs)


class BeamSearchDecoder:
    def __init__(self, beam_size: int, eot: int, patience: float | None):
        self.beam_size, self.eot = beam_size, eot
        self.patience = 1.0 if patience is None else patience
        self.max_candidates = round(beam_size * self.patience)
        if self.max_candidates <= 0:
            raise ValueError(f"invalid beam size ({beam_size}) or patience ({patience})")
        self.finished: dict[tuple[int, ...], float] = {}

    def update(self, tokens: list[list[int]], logits: list[torch.Tensor],
               sum_logprobs: list[float]):
        """Returns (next sequences, their source beam indices, completed)."""
        scores: dict[tuple[int, ...], float] = {}
        sources: dict[tuple[int, ...], int] = {}
        for j, prefix in enumerate(tokens):
            logprobs = torch.log_softmax(logits[j], dim=-1)
            top = logprobs.topk(self.beam_size + 1)
            for logprob, token in zip(top.values.tolist(), top.indices.tolist()):
                sequence = tuple(prefix + [token])
                scores[sequence] = sum_logprobs[j] + logprob  # identical beams: one entry
                sources[sequence] = j
        next_tokens, source_indices, newly_finished = [], [], {}
        for sequence in sorted(scores, key=scores.get, reverse=True):  # stable sort
            if sequence[-1] == self.eot:
                newly_finished[sequence] = scores[sequence]
            else:
                sum_logprobs[len(next_tokens)] = scores[sequence]
                next_tokens.append(list(sequence))
                source_indices.append(sources[sequence])
                if len(next_tokens) == self.beam_size:
                    break
        for sequence in sorted(newly_finished, key=newly_finished.get, reverse=True):
            if len(self.finished) >= self.max_candidates:
                break
            self.finished[sequence] = newly_finished[sequence]
        completed = len(self.finished) >= self.max_candidates
        return next_tokens, source_indices, completed

    def finalize(self, tokens: list[list[int]], sum_logprobs: list[float]):
        """The finished candidates, topped up with the best unfinished beams (+ eot)."""
        finished = dict(self.finished)
        if len(finished) < self.beam_size:
            for j in np.argsort(np.array(sum_logprobs[: len(tokens)]))[::-1]:
                finished[tuple(tokens[j] + [self.eot])] = sum_logprobs[j]
                if len(finished) >= self.beam_size:
                    break
        return [list(s) for s in finished], list(finished.values())


class MaximumLikelihoodRanker:
    """Picks the candidate with the highest length-normalised log probability."""

    def __init__(self, length_penalty: float | None):
        self.length_penalty = length_penalty

    def rank(self, tokens: list[list[int]], sum_logprobs: list[float]) -> int:
        def score(logprob: float, length: int) -> float:
            if self.length_penalty is None:
                penalty = length
            else:
                penalty = ((5 + length) / 6) ** self.length_penalty  # Google NMT
            if penalty == 0:  # an empty candidate: torch's x / 0
                return math.copysign(math.inf, logprob) if logprob else math.nan
            return logprob / penalty

        scores = [score(lp, len(t)) for t, lp in zip(tokens, sum_logprobs)]
        return int(np.argmax(scores))


# ---- the task ------------------------------------------------------------------------------


def _copy_state(state):
    """A beam's own KV cache: decode_step only rebinds list entries, so sharing the tensors
    (and the audio's cross-attention K/V) is safe."""
    clone = copy.copy(state)
    clone.keys, clone.values = list(state.keys), list(state.values)
    return clone


class DecodingTask:
    def __init__(self, ref, tokenizer: Tokenizer | None, options: DecodingOptions,
                 rng: SamplingRng | None = None):
        self.ref, self.tokenizer, self.options = ref, tokenizer, options
        self.special = ref.tokens
        self._verify_options()
        self.n_group = options.beam_size or options.best_of or 1
        self.n_ctx = ref.n_text_ctx
        self.sample_len = options.sample_len or ref.n_text_ctx // 2
        self.initial_tokens = self._initial_tokens()
        self.sample_begin = len(self.initial_tokens)
        self.sot_index = self.initial_tokens.index(self.special.sot)
        self.ranker = MaximumLikelihoodRanker(options.length_penalty)
        if options.beam_size is not None:
            self.decoder = BeamSearchDecoder(options.beam_size, self.special.eot,
                                             options.patience)
        else:
            self.decoder = GreedyDecoder(options.temperature, self.special.eot, rng)
        self.suppress = self._suppress_tokens() if options.suppress_tokens else None
        self.max_initial_timestamp_index = None
        if options.max_initial_timestamp:
            precision = CHUNK_LENGTH / ref.n_audio_ctx
            self.max_initial_timestamp_index = round(options.max_initial_timestamp / precision)

    def _verify_options(self) -> None:
        o = self.options
        if o.beam_size is not None and o.best_of is not None:
            raise ValueError("beam_size and best_of can't be given together")
        if o.temperature == 0 and o.best_of is not None:
            raise ValueError("best_of with greedy sampling (T=0) is not compatible")
        if o.patience is not None and o.beam_size is None:
            raise ValueError("patience requires beam_size to be given")
        if o.length_penalty is not None and not 0 <= o.length_penalty <= 1:
            raise ValueError("length_penalty (alpha) should be a value between 0 and 1")
        if o.task not in ("transcribe", "translate"):
            raise ValueError(f"unknown task {o.task!r}")

    def _sot_sequence(self) -> list[int]:
        t = self.special
        sequence = [t.sot]
        if t.multilingual:  # openai's English-only tokenizer has no language or task token
            sequence += [t.language_token(self.options.language),
                         t.transcribe if self.options.task == "transcribe" else t.translate]
        if self.options.without_timestamps:
            sequence.append(t.no_timestamps)
        return sequence

    def _encode(self, text: str) -> list[int]:
        if self.tokenizer is None:
            raise ValueError("text prompts and prefixes need the tokenizer ranks (../shared)")
        return self.tokenizer.encode(" " + text.strip())

    def _initial_tokens(self) -> list[int]:
        tokens = self._sot_sequence()
        if prefix := self.options.prefix:
            prefix_tokens = self._encode(prefix) if isinstance(prefix, str) else list(prefix)
            if self.sample_len is not None:
                max_prefix_len = self.n_ctx // 2 - self.sample_len
                prefix_tokens = prefix_tokens[-max_prefix_len:]  # [-0:] keeps them all
            tokens = tokens + prefix_tokens
        if prompt := self.options.prompt:
            prompt_tokens = self._encode(prompt) if isinstance(prompt, str) else list(prompt)
            tokens = [self.special.sot_prev] + prompt_tokens[-(self.n_ctx // 2 - 1) :] + tokens
        return tokens

    def _suppress_tokens(self) -> list[int]:
        listed = self.options.suppress_tokens
        if isinstance(listed, str):
            listed = [int(t) for t in listed.split(",")]
        listed = list(listed)
        if -1 in listed:
            if self.tokenizer is None:
                raise ValueError("suppress_tokens -1 needs the tokenizer ranks (../shared)")
            listed = [t for t in listed if t >= 0] + self.tokenizer.non_speech_tokens
        t = self.special
        listed += [t.transcribe, t.translate, t.sot, t.sot_prev, t.sot_lm, t.no_speech]
        return sorted(set(listed))

    def apply_filters(self, logits: torch.Tensor, tokens: list[int]) -> None:
        if self.options.suppress_blank:
            suppress_blank(logits, tokens, self.sample_begin, self.special.eot)
        if self.suppress is not None:
            logits[self.suppress] = NEG_INF
        if not self.options.without_timestamps:
            apply_timestamp_rules(logits, tokens, self.sample_begin, self.special,
                                  self.max_initial_timestamp_index)

    @torch.no_grad()
    def run(self, audio_features: torch.Tensor) -> DecodingResult:
        ref, eot = self.ref, self.special.eot
        state = ref.new_state(audio_features)
        first = ref.decode_step(list(self.initial_tokens), state)
        no_speech_prob = torch.softmax(first[self.sot_index], -1)[self.special.no_speech].item()
        first_logits = first[-1]

        tokens = [list(self.initial_tokens) for _ in range(self.n_group)]
        states = [state] + [_copy_state(state) for _ in range(self.n_group - 1)]
        sum_logprobs = [0.0] * self.n_group
        step_logits = [first_logits] * self.n_group  # identical sequences at step 0
        for step in range(self.sample_len):
            filtered = []
            for seq, logits in zip(tokens, step_logits):
                if logits is None:
                    filtered.append(None)
                    continue
                logits = logits.clone()
                self.apply_filters(logits, seq)
                filtered.append(logits)
            if isinstance(self.decoder, BeamSearchDecoder):
                tokens, sources, completed = self.decoder.update(tokens, filtered, sum_logprobs)
                states = [_copy_state(states[j]) for j in sources]
            else:
                completed = self.decoder.update(tokens, filtered, sum_logprobs)
            if completed or len(tokens[0]) > self.n_ctx or step + 1 == self.sample_len:
                break
            step_logits = [None if seq[-1] == eot else ref.decode_step([seq[-1]], st)[-1]
                           for seq, st in zip(tokens, states)]

        ended_with_eot = all(seq[-1] == eot for seq in tokens)
        candidates, candidate_logprobs = self.decoder.finalize(tokens, sum_logprobs)
        candidates = [c[self.sample_begin : c.index(eot, self.sample_begin)] for c in candidates]
        best = self.ranker.rank(candidates, candidate_logprobs)
        sampled, sum_logprob = candidates[best], candidate_logprobs[best]
        text = self.tokenizer.decode(sampled).strip() if self.tokenizer is not None else None
        return DecodingResult(
            language=self.options.language, tokens=sampled, text=text,
            avg_logprob=sum_logprob / (len(sampled) + 1), sum_logprob=sum_logprob,
            no_speech_prob=no_speech_prob, temperature=self.options.temperature,
            compression_ratio=compression_ratio(text) if text is not None else None,
            initial_tokens=list(self.initial_tokens), ended_with_eot=ended_with_eot)


@torch.no_grad()
def decode(ref, audio_features: torch.Tensor, options: DecodingOptions,
           tokenizer: Tokenizer | None = None, rng: SamplingRng | None = None) -> DecodingResult:
    """openai's model.decode for one window's audio features; the language must be set
    (transcribe() detects it first) unless the model is English-only."""
    if not ref.tokens.multilingual:
        if options.language not in (None, "en"):
            raise ValueError(f"an English-only model cannot decode language {options.language!r}")
        options = replace(options, language="en")
    elif options.language is None:
        raise ValueError("decode() needs a language; detect it with ref.detect_language first")
    if tokenizer is None:
        encoding = load_encoding(ref.n_vocab)
        if encoding is not None:
            tokenizer = Tokenizer(encoding, options.language, options.task)
    return DecodingTask(ref, tokenizer, options, rng).run(audio_features)

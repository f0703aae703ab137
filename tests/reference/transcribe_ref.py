#!/usr/bin/python3
"""openai-whisper's transcribe() (transcribe.py) in float64 for the reference model: the 30 s
window loop with temperature fallback, no-speech skipping, clip_timestamps, segment splitting
at timestamp pairs, previous-text prompts, and the transcribe-loop half of word timestamps
(alignment_ref.py holds openai's timing.py). Written from openai's published algorithm.

CLI (openai-whisper's option names and value syntax; the `wisp transcribe ... --output_format
json` command takes the same options and prints the same JSON):

    /usr/bin/python3 tests/reference/transcribe_ref.py AUDIO --model DIR [options] --json OUT

Defaults follow wisp's TranscribeOptions: greedy at temperature 0 (no --beam_size), best_of 5.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import fields

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))

from audio_ref import HOP_LENGTH, SAMPLE_RATE, load_audio, log_mel_spectrogram  # noqa: E402
import decoding_ref  # noqa: E402  (DECISION_MARGINS)
from decoding_ref import (DecodingOptions, DecodingResult, SamplingRng, Tokenizer,  # noqa: E402
                          decode, load_encoding, shared_dir)
from tiktoken_bpe import LANGUAGE_NAMES  # noqa: E402

N_SAMPLES = 30 * SAMPLE_RATE
N_FRAMES = N_SAMPLES // HOP_LENGTH  # 3000 mel frames per window
FRAMES_PER_SECOND = SAMPLE_RATE // HOP_LENGTH  # 100
PREPEND_PUNCTUATIONS = "\"'\u201c\u00bf([{-"
APPEND_PUNCTUATIONS = "\"'.\u3002,\uff0c!\uff01?\uff1f:\uff1a\u201d)]}\u3001"
DECODE_OPTION_NAMES = {f.name for f in fields(DecodingOptions)} - {"temperature", "prompt"}


def language_code(name: str | None) -> str | None:
    """A language code from a code or an English name, as openai's CLI accepts."""
    if name is None:
        return None
    name = name.lower()
    if name in LANGUAGE_NAMES:
        return name
    by_name = {v: k for k, v in LANGUAGE_NAMES.items()}
    if name in by_name:
        return by_name[name]
    raise ValueError(f"unsupported language: {name}")


def get_end(segments: list[dict]) -> float | None:
    return next((w["end"] for s in reversed(segments) for w in reversed(s.get("words", []))),
                segments[-1]["end"] if segments else None)


# Anomalous words are very long, very short or improbable (openai's hallucination heuristic).
PUNCTUATION = "\"'\u201c\u00bf([{-\"'.\u3002,\uff0c!\uff01?\uff1f:\uff1a\u201d)]}\u3001"


def word_anomaly_score(word: dict) -> float:
    probability = word.get("probability", 0.0)
    duration = word["end"] - word["start"]
    score = 0.0
    if probability < 0.15:
        score += 1.0
    if duration < 0.133:
        score += (0.133 - duration) * 15
    if duration > 2.0:
        score += duration - 2.0
    return score


def is_segment_anomaly(segment: dict | None) -> bool:
    if segment is None or not segment["words"]:
        return False
    words = [w for w in segment["words"] if w["word"] not in PUNCTUATION]
    words = words[:8]
    score = sum(word_anomaly_score(w) for w in words)
    return score >= 3 or score + 0.01 >= len(words)


def next_words_segment(segments: list[dict]) -> dict | None:
    return next((s for s in segments if s["words"]), None)


def pad_or_trim(mel: np.ndarray, length: int = N_FRAMES) -> np.ndarray:
    if mel.shape[1] >= length:
        return mel[:, :length]
    return np.pad(mel, ((0, 0), (0, length - mel.shape[1])))


@torch.no_grad()
def transcribe(ref, audio, *, temperature=(0.0, 0.2, 0.4, 0.6, 0.8, 1.0),
               compression_ratio_threshold: float | None = 2.4,
               logprob_threshold: float | None = -1.0,
               no_speech_threshold: float | None = 0.6,
               condition_on_previous_text: bool = True, initial_prompt: str | None = None,
               carry_initial_prompt: bool = False, word_timestamps: bool = False,
               prepend_punctuations: str = PREPEND_PUNCTUATIONS,
               append_punctuations: str = APPEND_PUNCTUATIONS,
               clip_timestamps: str | list[float] = "0",
               hallucination_silence_threshold: float | None = None, seed: int = 0,
               verbose: bool = False,
               **decode_options) -> dict:
    """`audio`: a path or 16 kHz mono float32 samples. decode_options: DecodingOptions fields
    (language, task, best_of, beam_size, patience, length_penalty, suppress_tokens, prefix,
    suppress_blank, without_timestamps, max_initial_timestamp, sample_len)."""
    unknown = set(decode_options) - DECODE_OPTION_NAMES
    if unknown:
        raise ValueError(f"unknown decoding options: {', '.join(sorted(unknown))}")
    if isinstance(audio, str):
        audio = load_audio(audio)
    mel = log_mel_spectrogram(audio, ref.n_mels, N_SAMPLES,
                              os.path.join(shared_dir(), "assets", "mel_filters.npz"))
    content_frames = mel.shape[-1] - N_FRAMES
    content_duration = float(content_frames * HOP_LENGTH / SAMPLE_RATE)
    encoding = load_encoding(ref.n_vocab)
    if encoding is None:
        raise FileNotFoundError(f"tokenizer ranks not found under {shared_dir()}/assets")

    language_probs = None
    decode_options["language"] = language_code(decode_options.get("language"))
    if decode_options["language"] is None:
        if not ref.tokens.multilingual:
            decode_options["language"] = "en"
        else:
            features = ref.encoder(pad_or_trim(mel, N_FRAMES))
            _, language_probs = ref.detect_language(features)
            decode_options["language"] = max(language_probs, key=language_probs.get)
    elif not ref.tokens.multilingual and decode_options["language"] != "en":
        decode_options["language"] = "en"  # openai's CLI: an .en model only speaks English
    language: str = decode_options["language"]
    task: str = decode_options.get("task", "transcribe")
    tokenizer = Tokenizer(encoding, language, task)
    rng = SamplingRng(seed)

    if isinstance(clip_timestamps, str):
        clip_timestamps = [float(ts) for ts in (clip_timestamps.split(",")
                                                if clip_timestamps else [])]
    seek_points = [round(ts * FRAMES_PER_SECOND) for ts in clip_timestamps]
    if len(seek_points) == 0:
        seek_points.append(0)
    if len(seek_points) % 2 == 1:
        seek_points.append(content_frames)
    seek_clips = list(zip(seek_points[::2], seek_points[1::2]))

    def decode_with_fallback(features: torch.Tensor) -> DecodingResult:
        temperatures = [temperature] if isinstance(temperature, (int, float)) else temperature
        result = None
        for t in temperatures:
            kwargs = {**decode_options}
            if t > 0:  # no beam search when sampling
                kwargs.pop("beam_size", None)
                kwargs.pop("patience", None)
            else:  # no best_of at temperature 0
                kwargs.pop("best_of", None)
            options = DecodingOptions(**kwargs, temperature=float(t))
            decoding_ref.DECISION_MARGINS.clear()
            result = decode(ref, features, options, tokenizer, rng)
            result.decision_margin = min(decoding_ref.DECISION_MARGINS, default=float("inf"))
            if verbose:
                print(f"seek {seek}: T={t} {len(result.tokens)} tokens, compression "
                      f"{result.compression_ratio:.2f}, avg_logprob {result.avg_logprob:.3f}, "
                      f"no_speech {result.no_speech_prob:.3f}", file=sys.stderr, flush=True)

            needs_fallback = False
            if (compression_ratio_threshold is not None
                    and result.compression_ratio > compression_ratio_threshold):
                needs_fallback = True  # too repetitive
            if logprob_threshold is not None and result.avg_logprob < logprob_threshold:
                needs_fallback = True  # average log probability is too low
            if (no_speech_threshold is not None and result.no_speech_prob > no_speech_threshold
                    and logprob_threshold is not None
                    and result.avg_logprob < logprob_threshold):
                needs_fallback = False  # silence
            if not needs_fallback:
                break
        return result

    clip_idx = 0
    seek = seek_clips[clip_idx][0]
    input_stride = N_FRAMES // ref.n_audio_ctx  # mel frames per output token: 2
    time_precision = input_stride * HOP_LENGTH / SAMPLE_RATE  # 0.02 s per timestamp token
    all_tokens: list[int] = []
    all_segments: list[dict] = []
    prompt_reset_since = 0

    remaining_prompt_length = ref.n_text_ctx // 2 - 1
    if initial_prompt is not None:
        initial_prompt_tokens = tokenizer.encode(" " + initial_prompt.strip())
        all_tokens.extend(initial_prompt_tokens)
        remaining_prompt_length -= len(initial_prompt_tokens)
    else:
        initial_prompt_tokens = []

    def new_segment(*, start: float, end: float, tokens: list[int], result: DecodingResult):
        text_tokens = [token for token in tokens if token < tokenizer.eot]
        return {"seek": seek, "start": start, "end": end, "text": tokenizer.decode(text_tokens),
                "tokens": tokens, "temperature": result.temperature,
                "avg_logprob": result.avg_logprob, "compression_ratio": result.compression_ratio,
                "no_speech_prob": result.no_speech_prob, "decision_margin": result.decision_margin}

    last_speech_timestamp = 0.0
    while clip_idx < len(seek_clips):
        seek_clip_start, seek_clip_end = seek_clips[clip_idx]
        if seek < seek_clip_start:
            seek = seek_clip_start
        if seek >= seek_clip_end:
            clip_idx += 1
            if clip_idx < len(seek_clips):
                seek = seek_clips[clip_idx][0]
            continue
        time_offset = float(seek * HOP_LENGTH / SAMPLE_RATE)
        window_end_time = float((seek + N_FRAMES) * HOP_LENGTH / SAMPLE_RATE)
        segment_size = min(N_FRAMES, content_frames - seek, seek_clip_end - seek)
        mel_segment = pad_or_trim(mel[:, seek : seek + segment_size], N_FRAMES)
        segment_duration = segment_size * HOP_LENGTH / SAMPLE_RATE
        features = ref.encoder(mel_segment)

        if carry_initial_prompt:
            nignored = max(len(initial_prompt_tokens), prompt_reset_since)
            remaining_prompt = all_tokens[nignored:][-remaining_prompt_length:]
            decode_options["prompt"] = initial_prompt_tokens + remaining_prompt
        else:
            decode_options["prompt"] = all_tokens[prompt_reset_since:]

        result = decode_with_fallback(features)
        tokens = result.tokens

        if no_speech_threshold is not None:
            should_skip = result.no_speech_prob > no_speech_threshold
            if logprob_threshold is not None and result.avg_logprob > logprob_threshold:
                should_skip = False  # confident text despite the no-speech probability
            if should_skip:
                seek += segment_size  # fast-forward to the next window
                continue

        previous_seek = seek
        current_segments: list[dict] = []

        is_timestamp = [t >= tokenizer.timestamp_begin for t in tokens]
        single_timestamp_ending = is_timestamp[-2:] == [False, True]
        consecutive = [i + 1 for i in range(len(tokens) - 1)
                       if is_timestamp[i] and is_timestamp[i + 1]]
        if consecutive:
            slices = list(consecutive)
            if single_timestamp_ending:
                slices.append(len(tokens))
            last_slice = 0
            for current_slice in slices:
                sliced_tokens = tokens[last_slice:current_slice]
                start_pos = sliced_tokens[0] - tokenizer.timestamp_begin
                end_pos = sliced_tokens[-1] - tokenizer.timestamp_begin
                current_segments.append(new_segment(
                    start=time_offset + start_pos * time_precision,
                    end=time_offset + end_pos * time_precision,
                    tokens=sliced_tokens, result=result))
                last_slice = current_slice
            if single_timestamp_ending:
                seek += segment_size  # no speech after the last timestamp
            else:  # drop the unfinished segment; the next window starts at its timestamp
                last_timestamp_pos = tokens[last_slice - 1] - tokenizer.timestamp_begin
                seek += last_timestamp_pos * input_stride
        else:
            duration = segment_duration
            timestamps = [t for t in tokens if t >= tokenizer.timestamp_begin]
            if timestamps and timestamps[-1] != tokenizer.timestamp_begin:
                # no consecutive timestamps but a final one: the segment ends there
                duration = (timestamps[-1] - tokenizer.timestamp_begin) * time_precision
            current_segments.append(new_segment(start=time_offset, end=time_offset + duration,
                                                tokens=list(tokens), result=result))
            seek += segment_size

        if word_timestamps:
            alignment_ref = _alignment_module()
            # openai's add_word_timestamps(segments, model, tokenizer, mel, num_frames, ...)
            alignment_ref.add_word_timestamps(
                ref, current_segments, mel_segment, tokenizer.sot_sequence, language,
                segment_size, prepend_punctuations, append_punctuations,
                last_speech_timestamp, encoding=encoding, audio_features=features)

            if not single_timestamp_ending:
                last_word_end = get_end(current_segments)
                if last_word_end is not None and last_word_end > time_offset:
                    seek = round(last_word_end * FRAMES_PER_SECOND)

            if hallucination_silence_threshold is not None:
                threshold = hallucination_silence_threshold
                if not single_timestamp_ending:
                    last_word_end = get_end(current_segments)
                    if last_word_end is not None and last_word_end > time_offset:
                        remaining_duration = window_end_time - last_word_end
                        if remaining_duration > threshold:
                            seek = round(last_word_end * FRAMES_PER_SECOND)
                        else:
                            seek = previous_seek + segment_size

                # a possibly hallucinated first segment: skip the leading silence
                first_segment = next_words_segment(current_segments)
                if first_segment is not None and is_segment_anomaly(first_segment):
                    gap = first_segment["start"] - time_offset
                    if gap > threshold:
                        seek = previous_seek + round(gap * FRAMES_PER_SECOND)
                        continue

                # skip the silence before a hallucination surrounded by silence or others
                hal_last_end = last_speech_timestamp
                for si in range(len(current_segments)):
                    segment = current_segments[si]
                    if not segment["words"]:
                        continue
                    if is_segment_anomaly(segment):
                        next_segment = next_words_segment(current_segments[si + 1 :])
                        if next_segment is not None:
                            hal_next_start = next_segment["words"][0]["start"]
                        else:
                            hal_next_start = time_offset + segment_duration
                        silence_before = (segment["start"] - hal_last_end > threshold
                                          or segment["start"] < threshold
                                          or segment["start"] - time_offset < 2.0)
                        silence_after = (hal_next_start - segment["end"] > threshold
                                         or is_segment_anomaly(next_segment)
                                         or window_end_time - segment["end"] < 2.0)
                        if silence_before and silence_after:
                            seek = round(max(time_offset + 1, segment["start"])
                                         * FRAMES_PER_SECOND)
                            if content_duration - segment["end"] < threshold:
                                seek = content_frames
                            current_segments[si:] = []
                            break
                    hal_last_end = segment["end"]

            last_word_end = get_end(current_segments)
            if last_word_end is not None:
                last_speech_timestamp = last_word_end

        # an instantaneous or textless segment is kept, emptied
        for segment in current_segments:
            if segment["start"] == segment["end"] or segment["text"].strip() == "":
                segment["text"] = ""
                segment["tokens"] = []
                segment["words"] = []

        all_segments.extend({"id": i, **segment}
                            for i, segment in enumerate(current_segments, start=len(all_segments)))
        all_tokens.extend(token for segment in current_segments for token in segment["tokens"])

        if not condition_on_previous_text or result.temperature > 0.5:
            prompt_reset_since = len(all_tokens)  # no prompt after a high-temperature window

    output = {"text": tokenizer.decode(all_tokens[len(initial_prompt_tokens) :]),
              "segments": all_segments, "language": language}
    if language_probs is not None:
        output["language_probs"] = language_probs
    return output


def _alignment_module():
    try:
        import alignment_ref
    except ImportError as e:
        raise NotImplementedError(f"word timestamps need tests/reference/alignment_ref.py ({e})")
    return alignment_ref


# ---- CLI -----------------------------------------------------------------------------------


def str2bool(string: str) -> bool:
    values = {"True": True, "False": False}
    if string not in values:
        raise argparse.ArgumentTypeError(f"expected one of {list(values)}, got {string!r}")
    return values[string]


def optional_int(string: str) -> int | None:
    return None if string == "None" else int(string)


def optional_float(string: str) -> float | None:
    return None if string == "None" else float(string)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="float64 reference of openai-whisper's transcribe()")
    p.add_argument("audio", help="audio file (decoded with the ffmpeg CLI)")
    p.add_argument("--model", required=True, help="Hugging Face model directory")
    p.add_argument("--json", required=True, help="write the result dict here")
    p.add_argument("--language", default=None)
    p.add_argument("--task", default="transcribe", choices=["transcribe", "translate"])
    p.add_argument("--temperature", type=float, default=0)
    p.add_argument("--temperature_increment_on_fallback", type=optional_float, default=0.2)
    p.add_argument("--best_of", type=optional_int, default=5)
    p.add_argument("--beam_size", type=optional_int, default=5)  # openai-whisper's CLI default
    p.add_argument("--patience", type=float, default=None)
    p.add_argument("--length_penalty", type=float, default=None)
    p.add_argument("--suppress_tokens", type=str, default="-1")
    p.add_argument("--initial_prompt", type=str, default=None)
    p.add_argument("--carry_initial_prompt", type=str2bool, default=False)
    p.add_argument("--prefix", type=str, default=None)
    p.add_argument("--condition_on_previous_text", type=str2bool, default=True)
    p.add_argument("--compression_ratio_threshold", type=optional_float, default=2.4)
    p.add_argument("--logprob_threshold", type=optional_float, default=-1.0)
    p.add_argument("--no_speech_threshold", type=optional_float, default=0.6)
    p.add_argument("--word_timestamps", type=str2bool, default=False)
    p.add_argument("--prepend_punctuations", type=str, default=PREPEND_PUNCTUATIONS)
    p.add_argument("--append_punctuations", type=str, default=APPEND_PUNCTUATIONS)
    p.add_argument("--clip_timestamps", type=str, default="0")
    p.add_argument("--hallucination_silence_threshold", type=optional_float, default=None)
    p.add_argument("--without_timestamps", type=str2bool, default=False)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--verbose", type=str2bool, default=False,
                   help="print each window's decoding result to stderr")
    return p


def transcribe_kwargs(args: dict) -> dict:
    """transcribe()'s keyword arguments from the parsed options (the temperature schedule is
    arange(temperature, 1.0 + 1e-6, increment), or the single temperature without increment)."""
    args = dict(args)
    start = args.pop("temperature")
    increment = args.pop("temperature_increment_on_fallback")
    if increment is not None:
        args["temperature"] = tuple(np.arange(start, 1.0 + 1e-6, increment).tolist())
    else:
        args["temperature"] = [start]
    return args


def transcribe_argv(ref, audio: str, options: list[str]) -> dict:
    """transcribe() with options given as CLI arguments (for tests that pass one option list
    to both this reference and wisp)."""
    args = vars(build_parser().parse_args([audio, "--model", "-", "--json", "-", *options]))
    for name in ("audio", "model", "json"):
        args.pop(name)
    return transcribe(ref, audio, **transcribe_kwargs(args))


def main(argv: list[str] | None = None) -> int:
    args = vars(build_parser().parse_args(argv))
    torch.set_grad_enabled(False)
    from whisper_ref import WhisperRef

    audio, model_dir, out = args.pop("audio"), args.pop("model"), args.pop("json")
    try:
        result = transcribe(WhisperRef(model_dir), audio, **transcribe_kwargs(args))
    except (ValueError, FileNotFoundError, KeyError, NotImplementedError) as e:
        print(f"transcribe_ref: error: {e}", file=sys.stderr)
        return 1
    with open(out, "w") as f:
        json.dump(result, f, indent=1, ensure_ascii=False)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

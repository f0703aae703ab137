#!/usr/bin/python3
"""Independent float64 reference of the Whisper model (the oracle for wisp's numerics).

Written from the published architecture (openai-whisper's model.py semantics, Hugging Face
parameter names), not from wisp's C++. Loads a Hugging Face checkpoint directory.

    ref = WhisperRef("models/tiny")
    feats = ref.encoder(mel)                       # [n_mels, 3000] -> [1500, d_model]
    logits = ref.decoder_logits([sot, ...], feats) # [T, n_vocab]
    ref.detect_language(feats)                     # (code, {code: prob})
    ref.greedy_decode(mel, language=None)          # openai DecodingTask, temperature 0

CLI:
    /usr/bin/python3 tests/reference/whisper_ref.py --model DIR --mel mel.npy
        [--tokens a,b,c --out-logits l.npy] [--out-encoder e.npy]
        [--greedy out.json [--language xx] [--task transcribe|translate] [--timestamps]
         [--sample-len N]]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))

from safetensors_reader import read_hf_weights  # noqa: E402
from tiktoken_bpe import LANGUAGES  # noqa: E402

LN_EPS = 1e-5
N_TIMESTAMPS = 1501


class SpecialTokens:
    """openai-whisper's special-token ids, derived from the vocabulary size alone: the BPE
    ranks (50256 for .en, 50257 multilingual) are followed by eot, sot, the languages, then
    translate, transcribe, startoflm, startofprev, nospeech, notimestamps and 1501 timestamps."""

    def __init__(self, n_vocab: int):
        self.multilingual = n_vocab >= 51865
        n_ranks = 50257 if self.multilingual else 50256
        self.eot = n_ranks
        self.sot = n_ranks + 1
        self.n_languages = n_vocab - n_ranks - 8 - N_TIMESTAMPS
        if self.n_languages not in (99, 100):
            raise ValueError(f"vocab_size {n_vocab} does not match Whisper's token layout")
        after_languages = self.sot + 1 + self.n_languages
        self.translate = after_languages
        self.transcribe = after_languages + 1
        self.sot_lm = after_languages + 2
        self.sot_prev = after_languages + 3
        self.no_speech = after_languages + 4
        self.no_timestamps = after_languages + 5
        self.timestamp_begin = after_languages + 6
        assert self.timestamp_begin + N_TIMESTAMPS == n_vocab
        self.language_codes = LANGUAGES[: self.n_languages]
        self.language_tokens = [self.sot + 1 + i for i in range(self.n_languages)]

    def language_token(self, code: str) -> int:
        if code not in self.language_codes:
            raise ValueError(f"unknown language code {code!r}")
        return self.sot + 1 + self.language_codes.index(code)


def layer_norm(x: torch.Tensor, w: dict, prefix: str) -> torch.Tensor:
    return F.layer_norm(x, (x.shape[-1],), w[f"{prefix}.weight"], w[f"{prefix}.bias"], LN_EPS)


def times_transposed(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """x @ weight.T, via matrix-vector products for single rows (3x faster in float64)."""
    if x.shape[0] == 1:
        return torch.mv(weight, x[0])[None]
    return (weight @ x.T).T


def linear(x: torch.Tensor, w: dict, prefix: str) -> torch.Tensor:
    y = times_transposed(x, w[f"{prefix}.weight"])
    bias = w.get(f"{prefix}.bias")
    return y if bias is None else y + bias


def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, n_heads: int,
           causal_offset: int | None) -> torch.Tensor:
    """Multi-head scaled dot-product attention. q [Tq, d], k/v [Tk, d]. With causal_offset,
    query i sits at absolute position causal_offset + i and sees keys 0..causal_offset + i."""
    t_q, d = q.shape
    d_head = d // n_heads
    qh = q.reshape(t_q, n_heads, d_head).transpose(0, 1)
    kh = k.reshape(k.shape[0], n_heads, d_head).transpose(0, 1)
    vh = v.reshape(v.shape[0], n_heads, d_head).transpose(0, 1)
    scores = (qh @ kh.transpose(1, 2)) / math.sqrt(d_head)
    if causal_offset is not None:
        query_pos = torch.arange(t_q)[:, None] + causal_offset
        key_pos = torch.arange(k.shape[0])[None, :]
        scores = scores.masked_fill(key_pos > query_pos, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return (weights @ vh).transpose(0, 1).reshape(t_q, d)


def attention_scores(q: torch.Tensor, k: torch.Tensor, n_heads: int) -> torch.Tensor:
    """Scaled scores before the softmax: q [Tq, d], k [Tk, d] -> [heads, Tq, Tk]."""
    d_head = q.shape[1] // n_heads
    qh = q.reshape(q.shape[0], n_heads, d_head).transpose(0, 1)
    kh = k.reshape(k.shape[0], n_heads, d_head).transpose(0, 1)
    return (qh @ kh.transpose(1, 2)) / math.sqrt(d_head)


class DecoderState:
    """Key/value cache of one decoding pass: cross-attention keys/values of the audio and the
    self-attention keys/values of the tokens fed so far."""

    def __init__(self, ref: "WhisperRef", audio_features: torch.Tensor):
        w = ref.w
        self.cross = []
        for i in range(ref.n_decoder_layers):
            p = f"model.decoder.layers.{i}.encoder_attn"
            self.cross.append((linear(audio_features, w, f"{p}.k_proj"),
                               linear(audio_features, w, f"{p}.v_proj")))
        self.keys: list[torch.Tensor | None] = [None] * ref.n_decoder_layers
        self.values: list[torch.Tensor | None] = [None] * ref.n_decoder_layers
        self.offset = 0


class WhisperRef:
    def __init__(self, model_dir: str, dtype: torch.dtype = torch.float64):
        """dtype: float64 for the oracle; float32 only to check that a float32 evaluation of
        the same model picks the same tokens (the logits are peaked enough)."""
        self.model_dir = model_dir
        self.dtype = dtype
        with open(os.path.join(model_dir, "config.json")) as f:
            self.config = json.load(f)
        gen_path = os.path.join(model_dir, "generation_config.json")
        self.generation_config = {}
        if os.path.isfile(gen_path):
            with open(gen_path) as f:
                self.generation_config = json.load(f)
        c = self.config
        self.d_model = c["d_model"]
        self.n_mels = c["num_mel_bins"]
        self.n_vocab = c["vocab_size"]
        self.n_encoder_layers = c["encoder_layers"]
        self.n_decoder_layers = c["decoder_layers"]
        self.n_encoder_heads = c["encoder_attention_heads"]
        self.n_decoder_heads = c["decoder_attention_heads"]
        self.n_audio_ctx = c["max_source_positions"]
        self.n_text_ctx = c["max_target_positions"]
        if c.get("activation_function", "gelu") != "gelu":
            raise ValueError(f"unsupported activation {c['activation_function']}")
        if c.get("scale_embedding"):
            raise ValueError("scale_embedding=true is not part of Whisper")
        self.w = read_hf_weights(model_dir, dtype)
        self.tokens = SpecialTokens(self.n_vocab)

    # ---- encoder -------------------------------------------------------------------------

    def encoder(self, mel) -> torch.Tensor:
        """mel [n_mels, n_frames] (3000 for 30 s; any even count up to that, using the first
        n_frames/2 positional embeddings) -> audio features [n_frames/2, d_model]."""
        w = self.w
        x = torch.as_tensor(mel).to(self.dtype)
        if x.ndim != 2 or x.shape[0] != self.n_mels:
            raise ValueError(f"mel must be [{self.n_mels}, n_frames], got {list(x.shape)}")
        if x.shape[1] % 2 or x.shape[1] > 2 * self.n_audio_ctx:
            raise ValueError(f"mel must have an even number of frames <= {2 * self.n_audio_ctx}")
        x = x[None]
        x = F.gelu(F.conv1d(x, w["model.encoder.conv1.weight"], w["model.encoder.conv1.bias"],
                            padding=1))
        x = F.gelu(F.conv1d(x, w["model.encoder.conv2.weight"], w["model.encoder.conv2.bias"],
                            stride=2, padding=1))
        x = x[0].T
        x = x + w["model.encoder.embed_positions.weight"][: x.shape[0]]
        for i in range(self.n_encoder_layers):
            p = f"model.encoder.layers.{i}"
            h = layer_norm(x, w, f"{p}.self_attn_layer_norm")
            a = attend(linear(h, w, f"{p}.self_attn.q_proj"), linear(h, w, f"{p}.self_attn.k_proj"),
                       linear(h, w, f"{p}.self_attn.v_proj"), self.n_encoder_heads, None)
            x = x + linear(a, w, f"{p}.self_attn.out_proj")
            x = x + self._mlp(x, p)
        return layer_norm(x, w, "model.encoder.layer_norm")

    def _mlp(self, x: torch.Tensor, p: str) -> torch.Tensor:
        h = layer_norm(x, self.w, f"{p}.final_layer_norm")
        return linear(F.gelu(linear(h, self.w, f"{p}.fc1")), self.w, f"{p}.fc2")

    # ---- decoder -------------------------------------------------------------------------

    def new_state(self, audio_features: torch.Tensor) -> DecoderState:
        return DecoderState(self, torch.as_tensor(audio_features).to(self.dtype))

    def decode_step(self, tokens: list[int], state: DecoderState,
                    cross_qk: list | None = None) -> torch.Tensor:
        """Feeds `tokens` after those already in `state`; returns their logits [T, n_vocab].
        With `cross_qk`, appends each layer's cross-attention scores before the softmax,
        q.k / sqrt(d_head) as [heads, T, n_audio_ctx] (openai's `qk`)."""
        w = self.w
        t = len(tokens)
        if state.offset + t > self.n_text_ctx:
            raise ValueError(f"more than {self.n_text_ctx} tokens")
        ids = torch.tensor(tokens, dtype=torch.long)
        if ids.numel() and (ids.min() < 0 or ids.max() >= self.n_vocab):
            raise ValueError(f"token id out of range 0..{self.n_vocab - 1}")
        embed = w["model.decoder.embed_tokens.weight"]
        x = embed[ids] + w["model.decoder.embed_positions.weight"][state.offset : state.offset + t]
        for i in range(self.n_decoder_layers):
            p = f"model.decoder.layers.{i}"
            h = layer_norm(x, w, f"{p}.self_attn_layer_norm")
            k = linear(h, w, f"{p}.self_attn.k_proj")
            v = linear(h, w, f"{p}.self_attn.v_proj")
            if state.keys[i] is not None:
                k = torch.cat([state.keys[i], k])
                v = torch.cat([state.values[i], v])
            state.keys[i], state.values[i] = k, v
            a = attend(linear(h, w, f"{p}.self_attn.q_proj"), k, v, self.n_decoder_heads,
                       state.offset)
            x = x + linear(a, w, f"{p}.self_attn.out_proj")
            h = layer_norm(x, w, f"{p}.encoder_attn_layer_norm")
            ck, cv = state.cross[i]
            q = linear(h, w, f"{p}.encoder_attn.q_proj")
            if cross_qk is not None:
                cross_qk.append(attention_scores(q, ck, self.n_decoder_heads))
            a = attend(q, ck, cv, self.n_decoder_heads, None)
            x = x + linear(a, w, f"{p}.encoder_attn.out_proj")
            x = x + self._mlp(x, p)
        state.offset += t
        x = layer_norm(x, w, "model.decoder.layer_norm")
        return times_transposed(x, embed)  # the output projection is tied to the embedding

    def decoder_logits(self, tokens: list[int], audio_features) -> torch.Tensor:
        """Logits [T, n_vocab] for a whole token sequence (no cache reuse)."""
        return self.decode_step(list(tokens), self.new_state(audio_features))

    def decoder_logits_and_cross_qk(self, tokens: list[int], audio_features):
        """Logits [T, n_vocab] of a whole sequence and every layer's cross-attention scores
        [layers, heads, T, n_audio_ctx] (pre-softmax), as openai's find_alignment hooks them."""
        qk: list[torch.Tensor] = []
        logits = self.decode_step(list(tokens), self.new_state(audio_features), cross_qk=qk)
        return logits, torch.stack(qk)

    def detect_language(self, audio_features) -> tuple[str, dict[str, float]]:
        """openai's detect_language: logits after [sot], all but language tokens masked."""
        if not self.tokens.multilingual:
            raise ValueError("an English-only model has no language tokens")
        logits = self.decoder_logits([self.tokens.sot], audio_features)[0]
        mask = torch.ones(self.n_vocab, dtype=torch.bool)
        mask[self.tokens.language_tokens] = False
        logits = logits.masked_fill(mask, float("-inf"))
        probs = torch.softmax(logits, dim=-1)
        codes = self.tokens.language_codes
        language_probs = {c: probs[t].item() for c, t in zip(codes, self.tokens.language_tokens)}
        return codes[int(logits.argmax()) - self.tokens.sot - 1], language_probs

    # ---- decoding ------------------------------------------------------------------------

    def greedy_decode(self, mel, language: str | None = None, task: str = "transcribe",
                      without_timestamps: bool = True, sample_len: int | None = None,
                      prompt: list[int] | None = None) -> dict:
        from greedy_ref import greedy_decode  # the decoding rules live in their own file

        return greedy_decode(self, mel, language, task, without_timestamps, sample_len, prompt)

    def suppress_tokens(self) -> list[int]:
        """openai's _get_suppress_tokens with the checkpoint's suppress list (the hub files
        hold the non-speech tokens there) plus the task and control specials."""
        listed = self.generation_config.get("suppress_tokens", self.config.get("suppress_tokens"))
        if listed is None:
            raise ValueError(f"{self.model_dir}: no suppress_tokens in generation_config.json "
                             "or config.json")
        t = self.tokens
        extra = [t.transcribe, t.translate, t.sot, t.sot_prev, t.sot_lm, t.no_speech]
        return sorted(set(int(x) for x in listed if x >= 0) | set(extra))


def _parse_tokens(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise SystemExit(f"whisper_ref: --tokens must be comma-separated integers, got {text!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="float64 Whisper reference (oracle)")
    parser.add_argument("--model", required=True, help="Hugging Face model directory")
    parser.add_argument("--mel", required=True, help=".npy log-mel spectrogram [n_mels, frames]")
    parser.add_argument("--tokens", help="comma-separated decoder input tokens (for --out-logits)")
    parser.add_argument("--out-encoder", help="write audio features [frames/2, d] (float64 .npy)")
    parser.add_argument("--out-logits", help="write logits [T, n_vocab] of --tokens (float64 .npy)")
    parser.add_argument("--greedy", help="write the greedy decoding result as JSON")
    parser.add_argument("--language", default=None)
    parser.add_argument("--task", default="transcribe", choices=["transcribe", "translate"])
    parser.add_argument("--timestamps", action="store_true", help="decode with timestamps")
    parser.add_argument("--sample-len", type=int, default=None)
    args = parser.parse_args(argv)
    if args.out_logits and not args.tokens:
        parser.error("--out-logits needs --tokens")
    torch.set_grad_enabled(False)
    try:
        ref = WhisperRef(args.model)
        mel = np.load(args.mel)
        if args.out_encoder or args.out_logits:
            features = ref.encoder(mel)
            if args.out_encoder:
                np.save(args.out_encoder, features.numpy())
            if args.out_logits:
                logits = ref.decoder_logits(_parse_tokens(args.tokens), features)
                np.save(args.out_logits, logits.numpy())
        if args.greedy:
            result = ref.greedy_decode(mel, args.language, args.task, not args.timestamps,
                                       args.sample_len)
            with open(args.greedy, "w") as f:
                json.dump(result, f, indent=2, ensure_ascii=False)
                f.write("\n")
    except (ValueError, FileNotFoundError, KeyError) as e:
        print(f"whisper_ref: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

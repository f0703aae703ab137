"""The JSON side files of a Hugging Face Whisper checkpoint: config.json,
generation_config.json and preprocessor_config.json, with the fields the hub's openai/whisper-*
repositories carry."""

from __future__ import annotations

import json
import os

from tiktoken_bpe import LANGUAGES, Encoding
from whisper_tensors import Dims

TORCH_DTYPE = {"f32": "float32", "f16": "float16", "bf16": "bfloat16"}


def alignment_heads(dims: Dims) -> list[list[int]]:
    """A fixed, seed-independent subset of heads from the upper half of the decoder layers
    (real checkpoints list the heads whose cross-attention follows the speech)."""
    heads = []
    first = dims.n_decoder_layers // 2
    for layer in range(first, dims.n_decoder_layers):
        picked = {(layer * 5) % dims.n_heads, (layer * 5 + 3) % dims.n_heads}
        heads += [[layer, h] for h in sorted(picked)]
    return heads


def suppress_tokens(enc: Encoding) -> list[int]:
    """As on the hub: openai's non-speech tokens plus the specials its decoder suppresses."""
    extra = [enc.sot, enc.translate, enc.transcribe, enc.sot_lm, enc.sot_prev, enc.no_speech]
    return sorted(set(enc.non_speech_tokens()) | set(extra))


def _token_ids(enc: Encoding) -> dict:
    # The hub files use eot as bos for multilingual models and sot (same id) for .en ones.
    return {
        "bos_token_id": enc.eot if enc.multilingual else enc.sot,
        "eos_token_id": enc.eot,
        "pad_token_id": enc.eot,
        "decoder_start_token_id": enc.sot,
    }


def model_config(dims: Dims, enc: Encoding, dtype: str) -> dict:
    return {
        "_name_or_path": "wisp-random-test-model",
        "activation_dropout": 0.0,
        "activation_function": "gelu",
        "architectures": ["WhisperForConditionalGeneration"],
        "attention_dropout": 0.0,
        "begin_suppress_tokens": [220, enc.eot],
        **_token_ids(enc),
        "d_model": dims.d_model,
        "decoder_attention_heads": dims.n_heads,
        "decoder_ffn_dim": dims.ffn_dim,
        "decoder_layerdrop": 0.0,
        "decoder_layers": dims.n_decoder_layers,
        "dropout": 0.0,
        "encoder_attention_heads": dims.n_heads,
        "encoder_ffn_dim": dims.ffn_dim,
        "encoder_layerdrop": 0.0,
        "encoder_layers": dims.n_encoder_layers,
        "forced_decoder_ids": None,
        "init_std": 0.02,
        "is_encoder_decoder": True,
        "max_length": dims.n_text_ctx,
        "max_source_positions": dims.n_audio_ctx,
        "max_target_positions": dims.n_text_ctx,
        "model_type": "whisper",
        "num_hidden_layers": dims.n_encoder_layers,
        "num_mel_bins": dims.n_mels,
        "scale_embedding": False,
        "suppress_tokens": suppress_tokens(enc),
        "tie_word_embeddings": True,
        "torch_dtype": TORCH_DTYPE[dtype],
        "use_cache": True,
        "vocab_size": dims.n_vocab,
    }


def generation_config(dims: Dims, enc: Encoding) -> dict:
    config = {
        "alignment_heads": alignment_heads(dims),
        "begin_suppress_tokens": [220, enc.eot],
        **_token_ids(enc),
        "forced_decoder_ids": None,
        "is_multilingual": enc.multilingual,
        "max_initial_timestamp_index": 50,
        "max_length": dims.n_text_ctx,
        "no_timestamps_token_id": enc.no_timestamps,
        "prev_sot_token_id": enc.sot_prev,
        "return_timestamps": False,
        "suppress_tokens": suppress_tokens(enc),
    }
    if enc.multilingual:
        config["lang_to_id"] = {
            f"<|{code}|>": enc.language_token(code) for code in LANGUAGES[: enc.n_languages]
        }
        config["task_to_id"] = {"transcribe": enc.transcribe, "translate": enc.translate}
    return config


def preprocessor_config(dims: Dims) -> dict:
    return {
        "chunk_length": 30,
        "feature_extractor_type": "WhisperFeatureExtractor",
        "feature_size": dims.n_mels,
        "hop_length": 160,
        "n_fft": 400,
        "n_samples": 480000,
        "nb_max_frames": 3000,
        "padding_side": "right",
        "padding_value": 0.0,
        "processor_class": "WhisperProcessor",
        "return_attention_mask": False,
        "sampling_rate": 16000,
    }


def write_json(directory: str, name: str, value: dict) -> None:
    with open(os.path.join(directory, name), "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2, ensure_ascii=False)
        f.write("\n")


def write_hf_configs(directory: str, dims: Dims, enc: Encoding, dtype: str) -> None:
    write_json(directory, "config.json", model_config(dims, enc, dtype))
    write_json(directory, "generation_config.json", generation_config(dims, enc))
    write_json(directory, "preprocessor_config.json", preprocessor_config(dims))

"""Pure-Python reference of Whisper's tokenizer (tiktoken's byte-level BPE + openai's specials).

Written from the published algorithms, independent of wisp's C++ tokenizer, so the oracle tests can
compare the two. Also used by the test-model tools to write Hugging Face tokenizer files.

    enc = Encoding(load_ranks("../shared/assets/multilingual.tiktoken"), 51865)
    enc.encode("Hello world"), enc.special_tokens["<|en|>"], enc.non_speech_tokens()
"""

from __future__ import annotations

import base64
import json
import os

import regex

# Whisper's language codes in token order (openai-whisper tokenizer.py LANGUAGES).
LANGUAGE_NAMES = {
    "en": "english", "zh": "chinese", "de": "german", "es": "spanish", "ru": "russian",
    "ko": "korean", "fr": "french", "ja": "japanese", "pt": "portuguese", "tr": "turkish",
    "pl": "polish", "ca": "catalan", "nl": "dutch", "ar": "arabic", "sv": "swedish",
    "it": "italian", "id": "indonesian", "hi": "hindi", "fi": "finnish", "vi": "vietnamese",
    "he": "hebrew", "uk": "ukrainian", "el": "greek", "ms": "malay", "cs": "czech",
    "ro": "romanian", "da": "danish", "hu": "hungarian", "ta": "tamil", "no": "norwegian",
    "th": "thai", "ur": "urdu", "hr": "croatian", "bg": "bulgarian", "lt": "lithuanian",
    "la": "latin", "mi": "maori", "ml": "malayalam", "cy": "welsh", "sk": "slovak",
    "te": "telugu", "fa": "persian", "lv": "latvian", "bn": "bengali", "sr": "serbian",
    "az": "azerbaijani", "sl": "slovenian", "kn": "kannada", "et": "estonian", "mk": "macedonian",
    "br": "breton", "eu": "basque", "is": "icelandic", "hy": "armenian", "ne": "nepali",
    "mn": "mongolian", "bs": "bosnian", "kk": "kazakh", "sq": "albanian", "sw": "swahili",
    "gl": "galician", "mr": "marathi", "pa": "punjabi", "si": "sinhala", "km": "khmer",
    "sn": "shona", "yo": "yoruba", "so": "somali", "af": "afrikaans", "oc": "occitan",
    "ka": "georgian", "be": "belarusian", "tg": "tajik", "sd": "sindhi", "gu": "gujarati",
    "am": "amharic", "yi": "yiddish", "lo": "lao", "uz": "uzbek", "fo": "faroese",
    "ht": "haitian creole", "ps": "pashto", "tk": "turkmen", "nn": "nynorsk", "mt": "maltese",
    "sa": "sanskrit", "lb": "luxembourgish", "my": "myanmar", "bo": "tibetan", "tl": "tagalog",
    "mg": "malagasy", "as": "assamese", "tt": "tatar", "haw": "hawaiian", "ln": "lingala",
    "ha": "hausa", "ba": "bashkir", "jw": "javanese", "su": "sundanese", "yue": "cantonese",
}
LANGUAGES = list(LANGUAGE_NAMES)
assert len(LANGUAGES) == 100

# GPT-2's pre-tokenizer pattern (tiktoken's "gpt2" encoding).
GPT2_PATTERN = regex.compile(
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
)

N_TIMESTAMPS = 1501  # <|0.00|> ... <|30.00|>
# Specials besides languages and timestamps: eot, sot, and the six task/control tokens.
N_FIXED_SPECIALS = 8


def load_ranks(path: str) -> dict[bytes, int]:
    """Reads a tiktoken rank file: one "base64 rank" pair per non-empty line."""
    ranks: dict[bytes, int] = {}
    with open(path, "rb") as f:
        for line_no, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                token_b64, rank = line.split()
                # openai's multilingual file has "=" (the empty token) at rank 50256.
                token = base64.b64decode(token_b64, validate=True) if token_b64.strip(b"=") else b""
                ranks[token] = int(rank)
            except ValueError as e:
                raise ValueError(f"{path}:{line_no}: not a 'base64 rank' line ({e})") from None
    return ranks


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map from each byte to a printable character (HF vocab.json keys)."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    mapping = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(256 + extra)
            extra += 1
    return dict(sorted(mapping.items()))


def bpe_parts(ranks: dict[bytes, int], piece: bytes, max_rank: int | None = None) -> list[bytes]:
    """tiktoken's merge loop: repeatedly join the adjacent pair whose concatenation has the lowest
    rank (leftmost on ties), optionally only using merges with rank < max_rank."""
    parts = [bytes([b]) for b in piece]
    while len(parts) > 1:
        best_rank, best_i = None, -1
        for i in range(len(parts) - 1):
            rank = ranks.get(parts[i] + parts[i + 1])
            if rank is None or (max_rank is not None and rank >= max_rank):
                continue
            if best_rank is None or rank < best_rank:
                best_rank, best_i = rank, i
        if best_rank is None:
            break
        parts[best_i : best_i + 2] = [parts[best_i] + parts[best_i + 1]]
    return parts


def special_token_names(n_ranks: int, n_vocab: int) -> list[str]:
    """openai-whisper's special tokens, in id order after the ranks."""
    n_languages = n_vocab - n_ranks - N_FIXED_SPECIALS - N_TIMESTAMPS
    if n_languages not in (99, 100):
        raise ValueError(
            f"n_vocab {n_vocab} does not fit {n_ranks} ranks (expected "
            f"{n_ranks + N_FIXED_SPECIALS + N_TIMESTAMPS + 99} or +1 for large-v3)"
        )
    return [
        "<|endoftext|>",
        "<|startoftranscript|>",
        *[f"<|{code}|>" for code in LANGUAGES[:n_languages]],
        "<|translate|>",
        "<|transcribe|>",
        "<|startoflm|>",
        "<|startofprev|>",
        "<|nospeech|>",
        "<|notimestamps|>",
        *[f"<|{i * 0.02:.2f}|>" for i in range(N_TIMESTAMPS)],
    ]


class Encoding:
    """Whisper's tokenizer: ordinary-text BPE plus openai's special-token layout."""

    def __init__(self, ranks: dict[bytes, int], n_vocab: int):
        self.ranks = ranks
        self.n_vocab = n_vocab
        self.decoder = {rank: token for token, rank in ranks.items()}
        names = special_token_names(len(ranks), n_vocab)
        self.special_tokens = {name: len(ranks) + i for i, name in enumerate(names)}
        self.special_names = {i: name for name, i in self.special_tokens.items()}
        self.n_languages = n_vocab - len(ranks) - N_FIXED_SPECIALS - N_TIMESTAMPS
        self.multilingual = n_vocab >= 51865
        st = self.special_tokens
        self.eot = st["<|endoftext|>"]
        self.sot = st["<|startoftranscript|>"]
        self.first_language = self.sot + 1
        self.translate = st["<|translate|>"]
        self.transcribe = st["<|transcribe|>"]
        self.sot_lm = st["<|startoflm|>"]
        self.sot_prev = st["<|startofprev|>"]
        self.no_speech = st["<|nospeech|>"]
        self.no_timestamps = st["<|notimestamps|>"]
        self.timestamp_begin = st["<|0.00|>"]

    def encode(self, text: str) -> list[int]:
        """tiktoken's encode_ordinary: special-token text is encoded as plain text."""
        ids: list[int] = []
        for match in GPT2_PATTERN.finditer(text):
            piece = match.group().encode("utf-8")
            rank = self.ranks.get(piece)
            if rank is not None:
                ids.append(rank)
            else:
                ids.extend(self.ranks[part] for part in bpe_parts(self.ranks, piece))
        return ids

    def token_bytes(self, token: int) -> bytes:
        if token in self.decoder:
            return self.decoder[token]
        return self.special_names[token].encode("utf-8")

    def decode_bytes(self, ids: list[int]) -> bytes:
        return b"".join(self.token_bytes(t) for t in ids)

    def decode(self, ids: list[int]) -> str:
        """openai-whisper's Tokenizer.decode: drops timestamps, invalid UTF-8 becomes U+FFFD."""
        kept = [t for t in ids if t < self.timestamp_begin]
        return self.decode_bytes(kept).decode("utf-8", errors="replace")

    def language_token(self, code: str) -> int:
        return self.special_tokens[f"<|{code}|>"]

    def non_speech_tokens(self) -> list[int]:
        """openai-whisper's Tokenizer.non_speech_tokens (the default suppress_tokens "-1")."""
        symbols = list('"#()*+/:;<=>@[\\]^_`{|}~「」『』')
        symbols += "<< >> <<< >>> -- --- -( -[ (' (\" (( )) ((( ))) [[ ]] {{ }} ♪♪ ♪♪♪".split()
        miscellaneous = list("♩♪♫♬♭♮♯")
        result = {self.encode(" -")[0], self.encode(" '")[0]}
        for symbol in symbols + miscellaneous:
            for tokens in (self.encode(symbol), self.encode(" " + symbol)):
                if len(tokens) == 1 or symbol in miscellaneous:
                    result.add(tokens[0])
        return sorted(result)


def load_encoding(path: str, n_vocab: int) -> Encoding:
    return Encoding(load_ranks(path), n_vocab)


def derive_merges(ranks: dict[bytes, int]) -> list[tuple[bytes, bytes]]:
    """The merge list (in rank order) that reproduces `ranks` as a classic BPE (HF merges.txt):
    each multi-byte token is rebuilt with merges of lower rank, which must leave two parts."""
    merges: list[tuple[bytes, bytes]] = []
    for token, rank in sorted(ranks.items(), key=lambda item: item[1]):
        if len(token) <= 1:  # single bytes, and the multilingual file's empty token
            continue
        parts = bpe_parts(ranks, token, max_rank=rank)
        if len(parts) != 2:
            raise ValueError(f"token {token!r} (rank {rank}) is not one merge of lower-rank tokens")
        merges.append((parts[0], parts[1]))
    return merges


def write_hf_tokenizer(directory: str, ranks: dict[bytes, int], n_vocab: int) -> None:
    """Writes vocab.json, merges.txt, added_tokens.json and tokenizer.json for `ranks`."""
    os.makedirs(directory, exist_ok=True)
    byte_chars = bytes_to_unicode()

    def to_unicode(token: bytes) -> str:
        return "".join(byte_chars[b] for b in token)

    vocab = {to_unicode(token): rank for token, rank in sorted(ranks.items(), key=lambda i: i[1])}
    merges = [f"{to_unicode(a)} {to_unicode(b)}" for a, b in derive_merges(ranks)]
    specials = {
        name: len(ranks) + i for i, name in enumerate(special_token_names(len(ranks), n_vocab))
    }

    def write_json(name: str, value) -> None:
        with open(os.path.join(directory, name), "w", encoding="utf-8") as f:
            json.dump(value, f, ensure_ascii=False)

    write_json("vocab.json", vocab)
    with open(os.path.join(directory, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        f.writelines(line + "\n" for line in merges)
    write_json("added_tokens.json", specials)
    write_json(
        "tokenizer.json",
        {
            "version": "1.0",
            "added_tokens": [
                {"id": i, "content": name, "special": True, "single_word": False,
                 "lstrip": False, "rstrip": False, "normalized": False}
                for name, i in specials.items()
            ],
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False,
                              "trim_offsets": True, "use_regex": True},
            "decoder": {"type": "ByteLevel", "add_prefix_space": True,
                        "trim_offsets": True, "use_regex": True},
            "model": {"type": "BPE", "dropout": None, "unk_token": None,
                      "continuing_subword_prefix": "", "end_of_word_suffix": "",
                      "fuse_unk": False, "vocab": vocab, "merges": merges},
        },
    )

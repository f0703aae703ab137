"""Compares wisp's C++ tokenizer (via wisp_oracle_dump) with the pure-Python reference in
tools/tiktoken_bpe.py: token ids, decoded text, special-token ids and non_speech_tokens."""

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

SOURCE = Path(os.environ.get("WISP_SOURCE", Path(__file__).resolve().parents[2]))
SHARED = Path(os.environ.get("WISP_SHARED", SOURCE.parent / "shared"))
ASSETS = SHARED / "assets"
sys.path.insert(0, str(SOURCE / "tools"))
import tiktoken_bpe  # noqa: E402

RANK_FILES = {"gpt2": 51864, "multilingual": 51865}
VOCABS = [("gpt2", 51864), ("multilingual", 51865), ("multilingual", 51866)]

FIXED_CORPUS = [
    "",
    "Hello world",
    " hello",
    "And so, my fellow Americans, ask not what your country can do for you.",
    "It's what we've said: they'll go, I'm sure, you'd see, we're done, don't.",
    "IT'S WE'VE THEY'LL I'M YOU'D WE'RE DON'T 's 't 're 've 'm 'll 'd",
    "Numbers: 0 1 12 123 1234 12345 3.14159 -42 1,000,000 2024-01-31 10:30pm ½ ² ٣ ৩",
    "Punctuation runs!!! ??? ... --- ;;; ((( ))) [[ ]] {{ }} <<< >>> ***",
    "multiple   spaces    here     ",
    "tabs\tand\t\ttabs\t\t\t",
    "newlines\nand\n\nmore\n\n\n",
    "mixed \t\n \n\t  whitespace  \r\n trailing   ",
    "   leading spaces",
    "\n\n\n",
    "    ",
    "近几年，不但我用书给女儿压岁，也劝说亲朋不要给女儿压岁钱，而改送压岁书。",
    "日本語のテキストです。カタカナとひらがなと漢字。",
    "한국어 텍스트입니다. 안녕하세요!",
    "emoji 😀😃😄 👍🏽 ❤️ 👨‍👩‍👧‍👦 👩🏻‍💻 🏳️‍🌈 🇯🇵🇺🇸🇩🇪 #️⃣",
    "Accented: café naïve résumé São Paulo Zürich Ångström Łódź Dvořák",
    "Cyrillic: Привет, как дела? Съешь же ещё этих мягких французских булок.",
    "Arabic: مرحبا بالعالم، كيف حالك؟ ١٢٣",
    "Hindi: नमस्ते दुनिया, आप कैसे हैं?",
    "Greek: Γειά σου Κόσμε. Hebrew: שלום עולם. Thai: สวัสดีชาวโลก",
    "def f(x):\n    return x ** 2  # square\n\nif __name__ == '__main__':\n\tprint(f(3))\n",
    "int main() { std::vector<int> v{1,2,3}; for (auto& x : v) x <<= 1; return 0; }",
    "<|en|><|endoftext|><|startoftranscript|><|0.00|><|notimestamps|>",
    "♪ la la la ♪♪ ♩♫♬♭♮♯ 「quote」 『quote』",
    "combining: e\u0301 a\u0308 n\u0303 Z\u0335\u0321\u0328",
    "zero width: a\u200bb\u200cc\u200dd\ufeffe",
    "odd spaces:\u00a0nbsp\u2003em\u3000ideographic\u2028line\u2029para\u0085nel\x0bvt\x0cff",
    "control chars: \x00\x01\x1c\x1d\x1e\x1f\x7f end",
    "a" * 3000,
    "的" * 1500,
    " " * 500 + "x",
    "😀" * 700,
]

# Code point ranges for random strings: ASCII, Latin, whitespace oddities, scripts, CJK, emoji.
RANDOM_RANGES = [
    (0x20, 0x7E), (0x09, 0x0D), (0xA0, 0x17F), (0x300, 0x36F), (0x370, 0x3FF), (0x400, 0x4FF),
    (0x590, 0x6FF), (0x900, 0x97F), (0xE00, 0xE7F), (0x1100, 0x11FF), (0x2000, 0x206F),
    (0x2190, 0x27BF), (0x3000, 0x30FF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3), (0xFE00, 0xFFFD),
    (0x1F300, 0x1FAFF), (0x1F1E6, 0x1F1FF), (0x20000, 0x2A6DF),
]


def random_texts(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        chars = []
        for _ in range(rng.randint(1, 200)):
            if rng.random() < 0.05:
                chars.append(chr(rng.choice([0x200D, 0xFE0F, 0x20E3, 0x1F3FB, 0x27, 0x20])))
                continue
            lo, hi = rng.choice(RANDOM_RANGES)
            chars.append(chr(rng.randint(lo, hi)))
        texts.append("".join(chars))
    # Any scalar value at all (no surrogates), to catch Unicode-property disagreements.
    for _ in range(count // 4):
        texts.append("".join(
            chr(c) for c in (rng.randint(0, 0x10FFFF) for _ in range(rng.randint(1, 80)))
            if not 0xD800 <= c <= 0xDFFF))
    return texts


def random_id_lists(enc: tiktoken_bpe.Encoding, seed: int, count: int) -> list[list[int]]:
    """Token sequences that are rarely valid UTF-8 on their own, plus specials and timestamps."""
    byte_ids = {token[0]: rank for token, rank in enc.ranks.items() if len(token) == 1}
    # Ill-formed UTF-8 that a lax decoder accepts: surrogates, overlongs, > U+10FFFF, truncation.
    tricky = [b"\xed\xa0\x80", b"\xed\x9f\xbf", b"\xe0\x80\x80", b"\xe0\xa0\x80",
              b"\xf4\x90\x80\x80", b"\xf4\x8f\xbf\xbf", b"\xf0\x8f\xbf", b"\xf0\x90\x80",
              b"\xc0\xaf", b"\xc1\xbf", b"\xc2", b"\xf5\x80", b"\xf8\x88\x80\x80\x80",
              b"\xff", b"\x80\xbf", b"\xe4\xb8x", b"\xf0\x9f\x98", b"a\xf0\x9f\x98\x80b"]
    lists = [[byte_ids[b] for b in seq] for seq in tricky]
    rng = random.Random(seed)
    return lists + [[rng.choice([rng.randrange(len(enc.ranks)), rng.randrange(256),
                         rng.randrange(enc.eot, enc.n_vocab)]) for _ in range(rng.randint(1, 30))]
            for _ in range(count)]


@pytest.fixture(scope="module")
def dump_tool():
    if not ASSETS.is_dir():
        pytest.skip(f"shared data not found at {SHARED}; tokenizer oracle needs its rank files")
    tool = os.environ.get("WISP_ORACLE_DUMP")
    if not tool or not Path(tool).is_file():
        pytest.skip("WISP_ORACLE_DUMP is not set to the built wisp_oracle_dump; run via ctest")
    return tool


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory):
    base = os.environ.get("WISP_WORK")
    if base:
        path = Path(base) / "tokenizer_oracle"
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("tokenizer_oracle")


def run_tool(tool, *args):
    result = subprocess.run([tool, *map(str, args)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"wisp_oracle_dump {args[0]} failed: {result.stderr}"


def tokenize_cpp(tool, work_dir, source_args, n_vocab, texts, id_lists, tag):
    input_path, decode_path = work_dir / f"{tag}_in.json", work_dir / f"{tag}_ids.json"
    output_path = work_dir / f"{tag}_out.json"
    input_path.write_text(json.dumps(texts))
    decode_path.write_text(json.dumps(id_lists))
    run_tool(tool, "tokenize", *source_args, "--n-vocab", n_vocab, "--input", input_path,
             "--decode", decode_path, "--output", output_path)
    return json.loads(output_path.read_text())


def compare_encodings(enc, result, texts, id_lists):
    assert len(result["encoded"]) == len(texts)
    mismatches = []
    for text, got in zip(texts, result["encoded"]):
        expected = enc.encode(text)
        if got["ids"] != expected:
            mismatches.append(f"{text[:60]!r}: wisp {got['ids'][:20]} python {expected[:20]}")
        assert got["decoded"] == enc.decode(expected)
    assert not mismatches, f"{len(mismatches)} texts differ:\n" + "\n".join(mismatches[:10])
    for ids, got in zip(id_lists, result["decoded"], strict=True):
        assert got == enc.decode(ids), f"decode({ids}) differs"


@pytest.mark.parametrize("rank_file", list(RANK_FILES))
def test_encode_matches_reference(dump_tool, work_dir, rank_file):
    n_vocab = RANK_FILES[rank_file]
    path = ASSETS / f"{rank_file}.tiktoken"
    enc = tiktoken_bpe.load_encoding(str(path), n_vocab)
    texts = FIXED_CORPUS + random_texts(seed=1234, count=400)
    id_lists = random_id_lists(enc, seed=99, count=300)
    result = tokenize_cpp(dump_tool, work_dir, ["--ranks", path], n_vocab, texts, id_lists,
                          rank_file)
    compare_encodings(enc, result, texts, id_lists)
    # Ordinary text round-trips exactly.
    for text, got in zip(texts, result["encoded"]):
        assert got["decoded"] == text


@pytest.mark.parametrize("rank_file,n_vocab", VOCABS)
def test_special_tokens_match_reference(dump_tool, work_dir, rank_file, n_vocab):
    enc = tiktoken_bpe.load_encoding(str(ASSETS / f"{rank_file}.tiktoken"), n_vocab)
    output = work_dir / f"specials_{n_vocab}.json"
    run_tool(dump_tool, "tokenizer-specials", "--ranks", ASSETS / f"{rank_file}.tiktoken",
             "--n-vocab", n_vocab, "--output", output)
    got = json.loads(output.read_text())
    for name in ["eot", "sot", "first_language", "n_languages", "translate", "transcribe",
                 "sot_lm", "sot_prev", "no_speech", "no_timestamps", "timestamp_begin",
                 "multilingual"]:
        assert got[name] == getattr(enc, name), name
    assert got["special_tokens"] == enc.special_tokens
    assert got["languages"] == {c: enc.language_token(c)
                                for c in tiktoken_bpe.LANGUAGES[:enc.n_languages]}
    assert got["non_speech_tokens"] == enc.non_speech_tokens()


@pytest.mark.parametrize("layout", ["vocab_json", "tokenizer_json"])
def test_hf_directory_matches_reference(dump_tool, work_dir, layout):
    n_vocab = 51866
    enc = tiktoken_bpe.load_encoding(str(ASSETS / "multilingual.tiktoken"), n_vocab)
    hf_dir = work_dir / f"hf_{layout}"
    tiktoken_bpe.write_hf_tokenizer(str(hf_dir), enc.ranks, n_vocab)
    if layout == "tokenizer_json":  # leave tokenizer.json as the only source
        for name in ["vocab.json", "merges.txt", "added_tokens.json"]:
            (hf_dir / name).unlink()
    texts = FIXED_CORPUS + random_texts(seed=7, count=50)
    id_lists = random_id_lists(enc, seed=8, count=50)
    result = tokenize_cpp(dump_tool, work_dir, ["--hf-dir", hf_dir], n_vocab, texts, id_lists,
                          layout)
    compare_encodings(enc, result, texts, id_lists)
    output = work_dir / f"specials_{layout}.json"
    run_tool(dump_tool, "tokenizer-specials", "--hf-dir", hf_dir, "--n-vocab", n_vocab,
             "--output", output)
    got = json.loads(output.read_text())
    assert got["special_tokens"] == enc.special_tokens
    assert got["non_speech_tokens"] == enc.non_speech_tokens()


def test_reference_known_values():
    """Anchors the reference itself to published ids, so both sides cannot drift together."""
    if not ASSETS.is_dir():
        pytest.skip(f"shared data not found at {SHARED}")
    gpt2 = tiktoken_bpe.load_encoding(str(ASSETS / "gpt2.tiktoken"), 51864)
    assert gpt2.encode("Hello world") == [15496, 995]
    assert (gpt2.eot, gpt2.sot, gpt2.timestamp_begin) == (50256, 50257, 50363)
    multi = tiktoken_bpe.load_encoding(str(ASSETS / "multilingual.tiktoken"), 51866)
    assert (multi.eot, multi.translate, multi.transcribe, multi.no_timestamps,
            multi.timestamp_begin) == (50257, 50359, 50360, 50364, 50365)
    assert multi.special_tokens["<|yue|>"] == 50358
    merges = tiktoken_bpe.derive_merges(gpt2.ranks)
    assert len(merges) == len(gpt2.ranks) - 256
    assert merges[0] == (b" ", b"t")

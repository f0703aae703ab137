// wisp/tokenizer.h - Whisper's byte-level BPE tokenizer and special tokens.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wisp {

// Whisper's language codes in token order; the first 99 for all multilingual models, all 100
// (with "yue", Cantonese) for large-v3 vocabularies (n_vocab 51866).
const std::vector<std::string>& whisper_language_codes();
// English name of a language code ("en" -> "english"), or empty if unknown.
std::string whisper_language_name(std::string_view code);

// Ids of the special tokens, all derived from the vocabulary layout.
struct SpecialTokens {
  int eot = -1;            // <|endoftext|>
  int sot = -1;            // <|startoftranscript|>
  int first_language = -1; // <|en|>; languages are contiguous from here
  int n_languages = 0;     // 99 or 100
  int translate = -1;
  int transcribe = -1;
  int sot_lm = -1;
  int sot_prev = -1;
  int no_speech = -1;
  int no_timestamps = -1;
  int timestamp_begin = -1;  // <|0.00|>; 1501 timestamp tokens follow, 0.02 s apart
};

class Tokenizer {
 public:
  // Builds from a tiktoken rank file (base64 token + rank per line), e.g. ../shared/assets/*.tiktoken.
  // `n_vocab` is the model's vocabulary size (51864, 51865, 51866); special tokens are appended
  // after the ranks as openai-whisper does.
  static Tokenizer from_tiktoken_file(const std::string& path, int n_vocab);
  // Builds from byte strings indexed by rank (token id), e.g. the vocabulary in a ggml file.
  static Tokenizer from_byte_tokens(std::vector<std::string> tokens, int n_vocab);
  // Builds from a Hugging Face tokenizer: vocab.json (+ added_tokens.json), or tokenizer.json.
  static Tokenizer from_hf_dir(const std::string& dir, int n_vocab);

  // Byte-level BPE with GPT-2's pre-tokenizer regex: exactly tiktoken's ids. Special-token text
  // such as "<|en|>" is encoded as ordinary text (tiktoken's encode_ordinary).
  std::vector<int> encode(std::string_view text) const;
  // Concatenated bytes of the tokens (special tokens render as "<|...|>", timestamps as
  // "<|1.23|>"); may end in a partial UTF-8 sequence.
  std::string decode_bytes(const std::vector<int>& tokens) const;
  // Text of the tokens as openai-whisper's Tokenizer.decode: timestamp tokens are dropped, other
  // special tokens render as their "<|...|>" text; invalid or partial UTF-8 becomes U+FFFD
  // (Python's errors="replace").
  std::string decode(const std::vector<int>& tokens) const;
  // The bytes of one token (special tokens as their "<|...|>" text).
  std::string token_bytes(int id) const;

  const SpecialTokens& special() const { return special_; }
  int n_vocab() const { return n_vocab_; }
  bool multilingual() const { return multilingual_; }
  // Token id of a language code ("en"), or nullopt if the code is unknown to this vocabulary.
  std::optional<int> language_token(std::string_view code) const;
  // Language code of a language token id, or empty.
  std::string language_code(int token) const;
  // openai-whisper's Tokenizer.non_speech_tokens: the default `suppress_tokens` ("-1").
  std::vector<int> non_speech_tokens() const;

  Tokenizer();
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  SpecialTokens special_;
  int n_vocab_ = 0;
  bool multilingual_ = false;
};

}  // namespace wisp

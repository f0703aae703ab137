// Whisper's special-token layout (openai-whisper tokenizer.get_encoding's `specials` list).
#include "tokenizer/special_tokens.h"

#include <cstdio>

#include "wisp/error.h"

namespace wisp::tokenizer {

SpecialTokens special_token_layout(int n_ranks, int n_vocab, const std::string& source) {
  const int n_languages = n_vocab - n_ranks - kFixedSpecialCount - kTimestampCount;
  if (n_languages != 99 && n_languages != 100) {
    const int expected = n_ranks + kFixedSpecialCount + kTimestampCount + 99;
    throw Error(source + ": n_vocab " + std::to_string(n_vocab) + " does not fit its " +
                std::to_string(n_ranks) + " BPE ranks (expected " + std::to_string(expected) +
                ", or " + std::to_string(expected + 1) +
                " for large-v3); use the vocabulary that matches the model "
                "(gpt2 ranks for .en models, multilingual ranks otherwise)");
  }
  SpecialTokens s;
  s.eot = n_ranks;
  s.sot = n_ranks + 1;
  s.first_language = n_ranks + 2;
  s.n_languages = n_languages;
  s.translate = s.first_language + n_languages;
  s.transcribe = s.translate + 1;
  s.sot_lm = s.translate + 2;
  s.sot_prev = s.translate + 3;
  s.no_speech = s.translate + 4;
  s.no_timestamps = s.translate + 5;
  s.timestamp_begin = s.translate + 6;
  return s;
}

std::string timestamp_text(int index) {
  // Same double arithmetic and correctly rounded formatting as Python's f"<|{i * 0.02:.2f}|>".
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "<|%.2f|>", index * 0.02);
  return buffer;
}

std::vector<std::string> special_token_texts(const SpecialTokens& layout) {
  std::vector<std::string> texts = {"<|endoftext|>", "<|startoftranscript|>"};
  const auto& codes = whisper_language_codes();
  for (int i = 0; i < layout.n_languages; ++i) texts.push_back("<|" + codes[i] + "|>");
  for (const char* text : {"<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>",
                           "<|nospeech|>", "<|notimestamps|>"}) {
    texts.emplace_back(text);
  }
  for (int i = 0; i < kTimestampCount; ++i) texts.push_back(timestamp_text(i));
  return texts;
}

}  // namespace wisp::tokenizer

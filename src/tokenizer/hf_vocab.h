// Reader for Hugging Face tokenizer files: vocab.json (+ added_tokens.json) or tokenizer.json.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace wisp::tokenizer {

struct HfVocabulary {
  std::string source;                 // the file the base tokens came from, for messages
  std::vector<std::string> tokens;    // base BPE tokens as raw bytes, indexed by id
  // Special tokens found in the files ("<|en|>", id), to check against the expected layout.
  std::vector<std::pair<std::string, int>> specials;
};

// Reads `dir`/vocab.json (+ optional added_tokens.json) or else `dir`/tokenizer.json. Entries
// whose text is a Whisper special token ("<|endoftext|>", "<|en|>", "<|0.00|>", ...) and all
// added tokens count as specials; the rest must be GPT-2 byte-unicode strings with ids 0..n-1.
// Throws wisp::Error naming the file when it is missing or malformed.
HfVocabulary read_hf_vocabulary(const std::string& dir);

// GPT-2's bytes_to_unicode: the printable character (a Unicode code point) standing for a byte.
char32_t byte_to_unicode(unsigned char byte);

}  // namespace wisp::tokenizer

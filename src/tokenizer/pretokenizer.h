// GPT-2's pre-tokenizer: splits text into the pieces that BPE encodes independently.
#pragma once

#include <string_view>
#include <vector>

namespace wisp::tokenizer {

// Splits `text` with GPT-2's regex (tiktoken's "gpt2" pattern). The pieces tile the whole input:
// bytes that are not valid UTF-8 (which the regex cannot match) become pieces of their own.
// Thread-safe; the regex is compiled once per process.
std::vector<std::string_view> pretokenize(std::string_view text);

}  // namespace wisp::tokenizer

// Whisper's special-token layout: the ids that follow the BPE ranks and their "<|...|>" texts.
#pragma once

#include <string>
#include <vector>

#include "wisp/tokenizer.h"

namespace wisp::tokenizer {

inline constexpr int kTimestampCount = 1501;  // <|0.00|> ... <|30.00|>, 0.02 s apart
// eot, sot and the six task/control tokens (translate ... notimestamps).
inline constexpr int kFixedSpecialCount = 8;

// The layout openai-whisper appends after `n_ranks` ranks for a model with `n_vocab` tokens.
// Throws wisp::Error naming `source` when n_vocab leaves room for neither 99 nor 100 languages.
SpecialTokens special_token_layout(int n_ranks, int n_vocab, const std::string& source);

// Texts of all special tokens in id order (element 0 is <|endoftext|>, id layout.eot).
std::vector<std::string> special_token_texts(const SpecialTokens& layout);

// Text of the timestamp token `index` (0..1500): "<|1.23|>", formatted like Python's f"{x:.2f}".
std::string timestamp_text(int index);

}  // namespace wisp::tokenizer

// Splitting decoded tokens into words, as openai-whisper's Tokenizer.split_to_word_tokens.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "wisp/tokenizer.h"

namespace wisp {

struct WordTokens {
  std::vector<std::string> words;        // UTF-8 text of each word
  std::vector<std::vector<int>> tokens;  // the tokens that make it
};

// Languages written without spaces (zh, ja, th, lo, my, yue) split wherever the decoded text is
// complete Unicode; all others split on spaces.
WordTokens split_to_word_tokens(const Tokenizer& tokenizer, const std::vector<int>& tokens,
                                std::string_view language);

// A word ends after each token where decoding (timestamps rendered, invalid UTF-8 as U+FFFD)
// leaves no replacement character that the full text does not also have at that place.
WordTokens split_tokens_on_unicode(const Tokenizer& tokenizer, const std::vector<int>& tokens);

// Unicode pieces joined into words: a new word starts at a special token (>= eot), at a piece
// starting with a space, at a piece that is punctuation after stripping (a substring of Python's
// string.punctuation, the empty string included), and at the beginning.
WordTokens split_tokens_on_spaces(const Tokenizer& tokenizer, const std::vector<int>& tokens);

// Python's str.strip(): `text` without leading/trailing Unicode whitespace.
std::string python_strip(std::string_view text);

}  // namespace wisp

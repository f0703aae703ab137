// Reader for tiktoken rank files ("base64-token rank" per line).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wisp::tokenizer {

// Decodes standard base64 (trailing '=' padding optional; "=" alone is the empty string), or
// nullopt if `text` is not base64.
std::optional<std::string> decode_base64(std::string_view text);

// Reads the tokens of a tiktoken rank file indexed by rank. Ranks must cover 0..n-1 exactly once.
// Throws wisp::Error naming the file (and line) when it is missing or malformed.
std::vector<std::string> read_tiktoken_ranks(const std::string& path);

}  // namespace wisp::tokenizer

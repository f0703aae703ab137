// UTF-8 repair matching Python's bytes.decode("utf-8", errors="replace").
#pragma once

#include <string>
#include <string_view>

namespace wisp::tokenizer {

// Copies valid UTF-8 through and replaces each maximal invalid subpart (a stray byte, or the
// valid prefix of a truncated/ill-formed sequence) with U+FFFD, exactly as CPython does.
std::string replace_invalid_utf8(std::string_view bytes);

}  // namespace wisp::tokenizer

// wisp::Tokenizer: ties the vocabulary loaders, pre-tokenizer, BPE and special tokens together.
#include "wisp/tokenizer.h"

#include <algorithm>
#include <set>

#include "tokenizer/bpe.h"
#include "tokenizer/hf_vocab.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/rank_file.h"
#include "tokenizer/special_tokens.h"
#include "tokenizer/utf8_replace.h"
#include "wisp/error.h"

namespace wisp {

struct Tokenizer::Impl {
  Impl(std::vector<std::string> base_tokens, const SpecialTokens& layout, const std::string& source)
      : tokens(std::move(base_tokens)),
        bpe(tokens, source),
        special_texts(tokenizer::special_token_texts(layout)) {}

  // Fills `t` from base tokens; `source` names the vocabulary's origin in error messages.
  // (A nested class may set the tokenizer's private members.)
  static void build(Tokenizer& t, std::vector<std::string> tokens, int n_vocab,
                    const std::string& source) {
    t.special_ = tokenizer::special_token_layout(static_cast<int>(tokens.size()), n_vocab, source);
    t.impl_ = std::make_unique<Impl>(std::move(tokens), t.special_, source);
    t.n_vocab_ = n_vocab;
    t.multilingual_ = n_vocab >= 51865;  // openai-whisper's is_multilingual
  }

  std::vector<std::string> tokens;         // base token bytes by id
  tokenizer::BytePairEncoder bpe;
  std::vector<std::string> special_texts;  // by id - eot
};

Tokenizer::Tokenizer() = default;
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

Tokenizer Tokenizer::from_tiktoken_file(const std::string& path, int n_vocab) {
  Tokenizer t;
  Impl::build(t, tokenizer::read_tiktoken_ranks(path), n_vocab, path);
  return t;
}

Tokenizer Tokenizer::from_byte_tokens(std::vector<std::string> tokens, int n_vocab) {
  Tokenizer t;
  Impl::build(t, std::move(tokens), n_vocab, "tokenizer vocabulary");
  return t;
}

Tokenizer Tokenizer::from_hf_dir(const std::string& dir, int n_vocab) {
  tokenizer::HfVocabulary vocab = tokenizer::read_hf_vocabulary(dir);
  Tokenizer t;
  Impl::build(t, std::move(vocab.tokens), n_vocab, vocab.source);
  // The files' special tokens must sit where the layout puts them (unknown extras are ignored).
  const auto& texts = t.impl_->special_texts;
  for (const auto& [text, id] : vocab.specials) {
    auto it = std::find(texts.begin(), texts.end(), text);
    if (it == texts.end()) continue;
    const int expected = t.special_.eot + static_cast<int>(it - texts.begin());
    if (id != expected) {
      throw Error(vocab.source + ": special token " + text + " has id " + std::to_string(id) +
                  " but n_vocab " + std::to_string(n_vocab) + " implies " +
                  std::to_string(expected) + "; the tokenizer does not match the model");
    }
  }
  return t;
}

std::vector<int> Tokenizer::encode(std::string_view text) const {
  if (!impl_) throw Error("encode called on an empty Tokenizer; load one first");
  std::vector<int> ids;
  ids.reserve(text.size() / 3 + 1);
  for (std::string_view piece : tokenizer::pretokenize(text)) impl_->bpe.encode_piece(piece, ids);
  return ids;
}

std::string Tokenizer::token_bytes(int id) const {
  if (!impl_) throw Error("token_bytes called on an empty Tokenizer; load one first");
  if (id >= 0 && id < special_.eot) return impl_->tokens[id];
  if (id >= special_.eot && id < n_vocab_) return impl_->special_texts[id - special_.eot];
  throw Error("token id " + std::to_string(id) + " is outside the vocabulary (0.." +
              std::to_string(n_vocab_ - 1) + ")");
}

std::string Tokenizer::decode_bytes(const std::vector<int>& tokens) const {
  std::string out;
  for (int id : tokens) out += token_bytes(id);
  return out;
}

std::string Tokenizer::decode(const std::vector<int>& tokens) const {
  std::vector<int> kept;
  kept.reserve(tokens.size());
  // As openai-whisper: everything from timestamp_begin up is dropped.
  for (int id : tokens) {
    if (id < special_.timestamp_begin) kept.push_back(id);
  }
  return tokenizer::replace_invalid_utf8(decode_bytes(kept));
}

std::optional<int> Tokenizer::language_token(std::string_view code) const {
  const auto& codes = whisper_language_codes();
  for (int i = 0; i < special_.n_languages; ++i) {
    if (codes[i] == code) return special_.first_language + i;
  }
  return std::nullopt;
}

std::string Tokenizer::language_code(int token) const {
  const int index = token - special_.first_language;
  if (special_.first_language < 0 || index < 0 || index >= special_.n_languages) return {};
  return whisper_language_codes()[index];
}

std::vector<int> Tokenizer::non_speech_tokens() const {
  // openai-whisper's list: symbols that are never speech, kept when they are a single token
  // (alone or after a space); the musical symbols are always suppressed by their first token.
  std::vector<std::string> symbols;
  for (std::string_view c : {"\"", "#", "(", ")", "*", "+", "/", ":", ";", "<", "=", ">", "@",
                             "[", "\\", "]", "^", "_", "`", "{", "|", "}", "~", "「", "」",
                             "『", "』"}) {
    symbols.emplace_back(c);
  }
  for (std::string_view s : {"<<", ">>", "<<<", ">>>", "--", "---", "-(", "-[", "('", "(\"",
                             "((", "))", "(((", ")))", "[[", "]]", "{{", "}}", "♪♪", "♪♪♪"}) {
    symbols.emplace_back(s);
  }
  const std::vector<std::string> miscellaneous = {"♩", "♪", "♫", "♬", "♭", "♮", "♯"};
  std::set<int> result = {encode(" -").at(0), encode(" '").at(0)};
  auto add = [&](const std::string& symbol, bool always) {
    for (const std::string& text : {symbol, " " + symbol}) {
      const std::vector<int> ids = encode(text);
      if (ids.size() == 1 || always) result.insert(ids.at(0));
    }
  };
  for (const std::string& symbol : symbols) add(symbol, false);
  for (const std::string& symbol : miscellaneous) add(symbol, true);
  return {result.begin(), result.end()};
}

}  // namespace wisp

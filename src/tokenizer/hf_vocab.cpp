// Hugging Face vocabulary parsing: JSON via nlohmann, byte-unicode keys mapped back to bytes.
#include "tokenizer/hf_vocab.h"

#include <array>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_set>

#include "tokenizer/special_tokens.h"
#include "wisp/error.h"

namespace wisp::tokenizer {
namespace {

using nlohmann::json;

// Printable Latin-1 bytes represent themselves; the other 68 bytes take U+0100 onwards in order.
bool byte_is_printable(int b) {
  return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

const std::array<char32_t, 256>& unicode_table() {
  static const std::array<char32_t, 256> table = [] {
    std::array<char32_t, 256> t{};
    char32_t extra = 256;
    for (int b = 0; b < 256; ++b) t[b] = byte_is_printable(b) ? char32_t(b) : extra++;
    return t;
  }();
  return table;
}

// Inverse of byte_to_unicode for code points below 512 (all the table uses), else -1.
int unicode_to_byte(char32_t cp) {
  static const std::array<int, 512> inverse = [] {
    std::array<int, 512> t;
    t.fill(-1);
    for (int b = 0; b < 256; ++b) t[unicode_table()[b]] = b;
    return t;
  }();
  return cp < 512 ? inverse[cp] : -1;
}

// Maps a vocab.json key (UTF-8 of byte-unicode characters) back to raw bytes, or nullopt.
std::optional<std::string> unicode_key_to_bytes(const std::string& key) {
  std::string out;
  for (size_t i = 0; i < key.size();) {
    const auto c = static_cast<unsigned char>(key[i]);
    char32_t cp;
    if (c < 0x80) {
      cp = c;
      i += 1;
    } else if ((c & 0xE0) == 0xC0 && i + 1 < key.size()) {
      cp = (char32_t(c & 0x1F) << 6) | (static_cast<unsigned char>(key[i + 1]) & 0x3F);
      i += 2;
    } else {
      return std::nullopt;  // the alphabet only uses 1- and 2-byte UTF-8 characters
    }
    const int byte = unicode_to_byte(cp);
    if (byte < 0) return std::nullopt;
    out.push_back(static_cast<char>(byte));
  }
  return out;
}

const std::unordered_set<std::string>& all_special_texts() {
  static const std::unordered_set<std::string> texts = [] {
    SpecialTokens widest;  // 100 languages: every text any layout can contain
    widest.n_languages = 100;
    auto list = special_token_texts(widest);
    return std::unordered_set<std::string>(list.begin(), list.end());
  }();
  return texts;
}

json parse_json_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open " + path.string() + "; check the tokenizer directory");
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw Error(path.string() + ": invalid JSON (" + e.what() + "); the file is corrupt");
  }
}

int token_id(const json& value, const std::string& file, const std::string& key) {
  if (!value.is_number_integer() || value.get<long long>() < 0 ||
      value.get<long long>() > 10'000'000) {
    throw Error(file + ": token '" + key + "' has no valid id; the file is corrupt");
  }
  return value.get<int>();
}

// Adds the entries of a {"token": id} object: specials to `vocab.specials`, the rest to `base`.
void add_vocab_object(const json& object, const std::string& file,
                      std::vector<std::pair<int, std::string>>& base, HfVocabulary& vocab) {
  if (!object.is_object()) throw Error(file + ": expected a JSON object of token -> id");
  for (const auto& [key, value] : object.items()) {
    const int id = token_id(value, file, key);
    if (all_special_texts().count(key)) {
      vocab.specials.emplace_back(key, id);
      continue;
    }
    auto bytes = unicode_key_to_bytes(key);
    if (!bytes) {
      throw Error(file + ": token '" + key +
                  "' uses characters outside GPT-2's byte alphabet; not a byte-level BPE vocab");
    }
    base.emplace_back(id, std::move(*bytes));
  }
}

// Orders the base tokens by id. Without a known <|endoftext|> id they must be exactly 0..n-1;
// with one, it fixes the count and ids it leaves unused become empty (never-encoded) tokens,
// like the empty token at id 50256 of openai's multilingual ranks.
std::vector<std::string> tokens_by_id(std::vector<std::pair<int, std::string>>& base,
                                      std::optional<int> eot, const std::string& file) {
  if (eot && static_cast<size_t>(*eot) > base.size() + 16) {
    throw Error(file + ": <|endoftext|> has id " + std::to_string(*eot) + " but there are only " +
                std::to_string(base.size()) + " base tokens; the vocabulary is corrupt");
  }
  const size_t count = eot ? static_cast<size_t>(*eot) : base.size();
  std::vector<std::string> tokens(count);
  std::vector<char> seen(count, 0);
  for (auto& [id, bytes] : base) {
    if (static_cast<size_t>(id) >= count || seen[id]) {
      throw Error(file + ": token ids are not 0.." + std::to_string(count - 1) + " (id " +
                  std::to_string(id) + " is out of place); the vocabulary is corrupt");
    }
    seen[id] = 1;
    tokens[id] = std::move(bytes);
  }
  if (tokens.empty()) throw Error(file + ": the vocabulary is empty");
  return tokens;
}

}  // namespace

char32_t byte_to_unicode(unsigned char byte) { return unicode_table()[byte]; }

HfVocabulary read_hf_vocabulary(const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path vocab_path = fs::path(dir) / "vocab.json";
  const fs::path tokenizer_path = fs::path(dir) / "tokenizer.json";
  HfVocabulary vocab;
  std::vector<std::pair<int, std::string>> base;
  if (fs::exists(vocab_path)) {
    vocab.source = vocab_path.string();
    add_vocab_object(parse_json_file(vocab_path), vocab.source, base, vocab);
    const fs::path added_path = fs::path(dir) / "added_tokens.json";
    if (fs::exists(added_path)) {
      const json added = parse_json_file(added_path);
      if (!added.is_object()) throw Error(added_path.string() + ": expected a JSON object");
      for (const auto& [key, value] : added.items()) {
        vocab.specials.emplace_back(key, token_id(value, added_path.string(), key));
      }
    }
  } else if (fs::exists(tokenizer_path)) {
    vocab.source = tokenizer_path.string();
    const json root = parse_json_file(tokenizer_path);
    if (!root.is_object() || !root.contains("model") || !root["model"].is_object() ||
        !root["model"].contains("vocab")) {
      throw Error(vocab.source + ": no model.vocab; not a Hugging Face BPE tokenizer.json");
    }
    add_vocab_object(root["model"]["vocab"], vocab.source, base, vocab);
    if (root.contains("added_tokens")) {
      const json& added = root["added_tokens"];
      if (!added.is_array()) throw Error(vocab.source + ": added_tokens is not a list");
      for (const json& entry : added) {
        if (!entry.is_object() || !entry.contains("content") || !entry["content"].is_string() ||
            !entry.contains("id")) {
          throw Error(vocab.source + ": an added_tokens entry lacks content or id");
        }
        const std::string content = entry["content"].get<std::string>();
        vocab.specials.emplace_back(content, token_id(entry["id"], vocab.source, content));
      }
    }
  } else {
    throw Error("cannot find " + vocab_path.string() + " or " + tokenizer_path.string() +
                "; pass a Hugging Face tokenizer directory");
  }
  // Added tokens may repeat vocab entries (HF lists <|endoftext|> in both); they are not base.
  std::unordered_set<int> special_ids;
  for (const auto& [text, id] : vocab.specials) special_ids.insert(id);
  std::erase_if(base, [&](const auto& entry) { return special_ids.count(entry.first) > 0; });
  std::optional<int> eot;
  for (const auto& [text, id] : vocab.specials) {
    if (text == "<|endoftext|>") eot = id;
  }
  vocab.tokens = tokens_by_id(base, eot, vocab.source);
  return vocab;
}

}  // namespace wisp::tokenizer

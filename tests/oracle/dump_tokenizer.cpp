// Oracle subcommands for the tokenizer, compared against tools/tiktoken_bpe.py by
// tests/oracle/test_tokenizer_oracle.py.
//   tokenize (--ranks FILE | --hf-dir DIR) --n-vocab N --input texts.json [--decode ids.json]
//            --output out.json
//     out: {"encoded": [{"ids": [...], "decoded": "..."}, ...], "decoded": ["...", ...]}
//   tokenizer-specials (--ranks FILE | --hf-dir DIR) --n-vocab N --output out.json
//     out: special ids, language tokens, non_speech_tokens and the text of every special token.
#include <fstream>
#include <nlohmann/json.hpp>

#include "oracle_tool.h"
#include "wisp/error.h"
#include "wisp/tokenizer.h"

namespace {

using nlohmann::json;

wisp::Tokenizer load_tokenizer(const wisp::oracle::Args& args) {
  const int n_vocab = std::stoi(wisp::oracle::require(args, "n-vocab"));
  if (args.count("hf-dir")) return wisp::Tokenizer::from_hf_dir(args.at("hf-dir"), n_vocab);
  return wisp::Tokenizer::from_tiktoken_file(wisp::oracle::require(args, "ranks"), n_vocab);
}

json read_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw wisp::Error("cannot open " + path);
  return json::parse(in);
}

void write_json(const std::string& path, const json& value) {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw wisp::Error("cannot write " + path);
  out << value.dump();
}

int tokenize(const wisp::oracle::Args& args) {
  const wisp::Tokenizer tokenizer = load_tokenizer(args);
  json encoded = json::array();
  for (const json& text : read_json(wisp::oracle::require(args, "input"))) {
    const std::vector<int> ids = tokenizer.encode(text.get<std::string>());
    encoded.push_back({{"ids", ids}, {"decoded", tokenizer.decode(ids)}});
  }
  json decoded = json::array();
  if (args.count("decode")) {
    for (const json& ids : read_json(args.at("decode"))) {
      decoded.push_back(tokenizer.decode(ids.get<std::vector<int>>()));
    }
  }
  write_json(wisp::oracle::require(args, "output"), {{"encoded", encoded}, {"decoded", decoded}});
  return 0;
}

int tokenizer_specials(const wisp::oracle::Args& args) {
  const wisp::Tokenizer tokenizer = load_tokenizer(args);
  const wisp::SpecialTokens& s = tokenizer.special();
  json languages = json::object();
  for (const std::string& code : wisp::whisper_language_codes()) {
    if (auto id = tokenizer.language_token(code)) languages[code] = *id;
  }
  json texts = json::object();
  for (int id = s.eot; id < tokenizer.n_vocab(); ++id) texts[tokenizer.token_bytes(id)] = id;
  write_json(wisp::oracle::require(args, "output"),
             {{"eot", s.eot},
              {"sot", s.sot},
              {"first_language", s.first_language},
              {"n_languages", s.n_languages},
              {"translate", s.translate},
              {"transcribe", s.transcribe},
              {"sot_lm", s.sot_lm},
              {"sot_prev", s.sot_prev},
              {"no_speech", s.no_speech},
              {"no_timestamps", s.no_timestamps},
              {"timestamp_begin", s.timestamp_begin},
              {"multilingual", tokenizer.multilingual()},
              {"languages", languages},
              {"special_tokens", texts},
              {"non_speech_tokens", tokenizer.non_speech_tokens()}});
  return 0;
}

}  // namespace

WISP_ORACLE_COMMAND("tokenize", tokenize);
WISP_ORACLE_COMMAND("tokenizer-specials", tokenizer_specials);

// Unit tests for wisp::Tokenizer: known ids, special-token layouts, decoding, loaders, bad input.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "wisp/error.h"
#include "wisp/tokenizer.h"

namespace fs = std::filesystem;
using namespace std::string_literals;
using wisp::Tokenizer;

namespace {

const std::string kAssets = std::string(WISP_SHARED_DIR) + "/assets/";
const std::string kGpt2 = kAssets + "gpt2.tiktoken";
const std::string kMultilingual = kAssets + "multilingual.tiktoken";

#define REQUIRE_SHARED()                                                          \
  if (!fs::exists(kGpt2) || !fs::exists(kMultilingual))                          \
  GTEST_SKIP() << "shared rank files not found under " << kAssets

// A fresh scratch directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() /
            ("wisp_tokenizer_" + std::to_string(getpid()) + "_" + info->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }
  std::string write(const std::string& name, const std::string& content) const {
    std::ofstream(path_ / name, std::ios::binary) << content;
    return (path_ / name).string();
  }

 private:
  fs::path path_;
};

// Expects `fn` to throw wisp::Error whose message contains every one of `parts`.
template <typename Fn>
void expect_error(Fn fn, const std::vector<std::string>& parts) {
  try {
    fn();
    ADD_FAILURE() << "expected wisp::Error";
  } catch (const wisp::Error& e) {
    const std::string message = e.what();
    for (const auto& part : parts) {
      EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' not in: " << message;
    }
    EXPECT_EQ(message.find('\n'), std::string::npos) << "message should be one line";
  }
}

// GPT-2's bytes_to_unicode, written here independently of the library, as UTF-8.
std::string byte_as_unicode(unsigned char byte) {
  auto printable = [](int b) {
    return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
  };
  int code = byte;
  if (!printable(byte)) {
    code = 256;
    for (int b = 0; b < byte; ++b) code += printable(b) ? 0 : 1;
  }
  std::string out;
  if (code < 0x80) {
    out.push_back(static_cast<char>(code));
  } else {
    out.push_back(static_cast<char>(0xC0 | (code >> 6)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
  }
  return out;
}

std::string as_unicode(const std::string& bytes) {
  std::string out;
  for (char c : bytes) out += byte_as_unicode(static_cast<unsigned char>(c));
  return out;
}

// A tiny complete vocabulary: the 256 bytes in byte order, then a few merges.
// "xyz" has no merge path: tiktoken still encodes the piece "xyz" as that one token.
const std::vector<std::string> kSmallMerges = {"he", "ll", "hell", "hello", " w", "or", " wor",
                                               "xyz"};
std::vector<std::string> small_tokens() {
  std::vector<std::string> tokens;
  for (int b = 0; b < 256; ++b) tokens.emplace_back(1, static_cast<char>(b));
  tokens.insert(tokens.end(), kSmallMerges.begin(), kSmallMerges.end());
  return tokens;
}
const int kSmallRanks = 256 + static_cast<int>(kSmallMerges.size());
const int kSmallVocab = kSmallRanks + 8 + 1501 + 99;

}  // namespace

TEST(TokenizerTest, KnownIdsGpt2) {
  REQUIRE_SHARED();
  const Tokenizer tok = Tokenizer::from_tiktoken_file(kGpt2, 51864);
  EXPECT_EQ(tok.encode("Hello world"), (std::vector<int>{15496, 995}));
  EXPECT_EQ(tok.encode(" hello"), (std::vector<int>{23748}));
  EXPECT_EQ(tok.encode("hello"), (std::vector<int>{31373}));
  EXPECT_EQ(tok.encode("!"), (std::vector<int>{0}));
  EXPECT_EQ(tok.encode(""), (std::vector<int>{}));
  EXPECT_FALSE(tok.multilingual());
}

TEST(TokenizerTest, KnownIdsMultilingual) {
  REQUIRE_SHARED();
  const Tokenizer tok = Tokenizer::from_tiktoken_file(kMultilingual, 51865);
  EXPECT_EQ(tok.encode("Hello world"), (std::vector<int>{15947, 1002}));
  EXPECT_EQ(tok.encode(" hello"), (std::vector<int>{7751}));
  EXPECT_EQ(tok.token_bytes(50256), "");  // the multilingual file's empty token ("=")
  EXPECT_TRUE(tok.multilingual());
}

TEST(TokenizerTest, SpecialTokensEnglishOnly) {
  REQUIRE_SHARED();
  const Tokenizer tok = Tokenizer::from_tiktoken_file(kGpt2, 51864);
  const auto& s = tok.special();
  EXPECT_EQ(s.eot, 50256);
  EXPECT_EQ(s.sot, 50257);
  EXPECT_EQ(s.first_language, 50258);
  EXPECT_EQ(s.n_languages, 99);
  EXPECT_EQ(s.translate, 50357);
  EXPECT_EQ(s.transcribe, 50358);
  EXPECT_EQ(s.sot_lm, 50359);
  EXPECT_EQ(s.sot_prev, 50360);
  EXPECT_EQ(s.no_speech, 50361);
  EXPECT_EQ(s.no_timestamps, 50362);
  EXPECT_EQ(s.timestamp_begin, 50363);
  EXPECT_EQ(tok.n_vocab(), 51864);
  EXPECT_EQ(s.timestamp_begin + 1500, tok.n_vocab() - 1);
}

TEST(TokenizerTest, SpecialTokensMultilingual) {
  REQUIRE_SHARED();
  const Tokenizer tok = Tokenizer::from_tiktoken_file(kMultilingual, 51865);
  const auto& s = tok.special();
  EXPECT_EQ(s.eot, 50257);
  EXPECT_EQ(s.sot, 50258);
  EXPECT_EQ(s.first_language, 50259);
  EXPECT_EQ(s.n_languages, 99);
  EXPECT_EQ(s.translate, 50358);
  EXPECT_EQ(s.transcribe, 50359);
  EXPECT_EQ(s.sot_lm, 50360);
  EXPECT_EQ(s.sot_prev, 50361);
  EXPECT_EQ(s.no_speech, 50362);
  EXPECT_EQ(s.no_timestamps, 50363);
  EXPECT_EQ(s.timestamp_begin, 50364);
}

TEST(TokenizerTest, SpecialTokensLargeV3) {
  REQUIRE_SHARED();
  const Tokenizer tok = Tokenizer::from_tiktoken_file(kMultilingual, 51866);
  const auto& s = tok.special();
  EXPECT_EQ(s.eot, 50257);
  EXPECT_EQ(s.sot, 50258);
  EXPECT_EQ(s.n_languages, 100);
  EXPECT_EQ(s.translate, 50359);
  EXPECT_EQ(s.transcribe, 50360);
  EXPECT_EQ(s.sot_lm, 50361);
  EXPECT_EQ(s.sot_prev, 50362);
  EXPECT_EQ(s.no_speech, 50363);
  EXPECT_EQ(s.no_timestamps, 50364);
  EXPECT_EQ(s.timestamp_begin, 50365);
  EXPECT_EQ(tok.language_token("yue"), 50358);
  EXPECT_EQ(tok.token_bytes(50358), "<|yue|>");
}

TEST(TokenizerTest, SpecialTokenTexts) {
  REQUIRE_SHARED();
  const Tokenizer tok = Tokenizer::from_tiktoken_file(kMultilingual, 51865);
  const auto& s = tok.special();
  EXPECT_EQ(tok.token_bytes(s.eot), "<|endoftext|>");
  EXPECT_EQ(tok.token_bytes(s.sot), "<|startoftranscript|>");
  EXPECT_EQ(tok.token_bytes(s.first_language), "<|en|>");
  EXPECT_EQ(tok.token_bytes(s.sot_prev), "<|startofprev|>");
  EXPECT_EQ(tok.token_bytes(s.no_speech), "<|nospeech|>");
  EXPECT_EQ(tok.token_bytes(s.no_timestamps), "<|notimestamps|>");
  EXPECT_EQ(tok.token_bytes(s.timestamp_begin), "<|0.00|>");
  EXPECT_EQ(tok.token_bytes(s.timestamp_begin + 1), "<|0.02|>");
  EXPECT_EQ(tok.token_bytes(s.timestamp_begin + 50), "<|1.00|>");
  EXPECT_EQ(tok.token_bytes(s.timestamp_begin + 1500), "<|30.00|>");
}

TEST(TokenizerTest, LanguagesRoundTrip) {
  REQUIRE_SHARED();
  const auto& codes = wisp::whisper_language_codes();
  ASSERT_EQ(codes.size(), 100u);
  EXPECT_EQ(codes[0], "en");
  EXPECT_EQ(codes[1], "zh");
  EXPECT_EQ(codes[98], "su");
  EXPECT_EQ(codes[99], "yue");
  EXPECT_EQ(wisp::whisper_language_name("en"), "english");
  EXPECT_EQ(wisp::whisper_language_name("haw"), "hawaiian");
  EXPECT_EQ(wisp::whisper_language_name("yue"), "cantonese");
  EXPECT_EQ(wisp::whisper_language_name("xx"), "");

  const Tokenizer tok = Tokenizer::from_tiktoken_file(kMultilingual, 51865);
  EXPECT_EQ(tok.language_token("en"), 50259);
  EXPECT_EQ(tok.language_token("zh"), 50260);
  EXPECT_EQ(tok.language_token("su"), 50357);
  EXPECT_EQ(tok.language_token("yue"), std::nullopt);  // only in large-v3's vocabulary
  EXPECT_EQ(tok.language_token("xx"), std::nullopt);
  EXPECT_EQ(tok.language_token(""), std::nullopt);
  for (int i = 0; i < 99; ++i) {
    const auto id = tok.language_token(codes[i]);
    ASSERT_TRUE(id.has_value()) << codes[i];
    EXPECT_EQ(tok.language_code(*id), codes[i]);
    EXPECT_EQ(tok.token_bytes(*id), "<|" + codes[i] + "|>");
  }
  EXPECT_EQ(tok.language_code(tok.special().sot), "");
  EXPECT_EQ(tok.language_code(tok.special().translate), "");
  EXPECT_EQ(tok.language_code(-3), "");
  EXPECT_EQ(tok.language_code(123), "");
}

TEST(TokenizerTest, DecodePartialUtf8LikePython) {
  REQUIRE_SHARED();
  const Tokenizer tok = Tokenizer::from_tiktoken_file(kGpt2, 51864);
  // Find the single-byte tokens for the two bytes of "é" (C3 A9).
  int c3 = -1, a9 = -1;
  for (int id = 0; id < 256; ++id) {
    if (tok.token_bytes(id) == "\xC3") c3 = id;
    if (tok.token_bytes(id) == "\xA9") a9 = id;
  }
  ASSERT_GE(c3, 0);
  ASSERT_GE(a9, 0);
  const int x = tok.encode("x").at(0);
  EXPECT_EQ(tok.decode_bytes({c3}), "\xC3");
  EXPECT_EQ(tok.decode({c3}), "\uFFFD");
  EXPECT_EQ(tok.decode({c3, a9}), "é");
  EXPECT_EQ(tok.decode({a9}), "\uFFFD");
  EXPECT_EQ(tok.decode({c3, x}), "\uFFFDx");
  EXPECT_EQ(tok.decode({c3, c3, a9}), "\uFFFDé");
  EXPECT_EQ(tok.decode({a9, a9, x}), "\uFFFD\uFFFDx");
  // "世" is E4 B8 96: its two-byte prefix is one U+FFFD (a maximal subpart), as in Python.
  const std::vector<int> world = tok.encode("世");
  std::string bytes = tok.decode_bytes(world);
  ASSERT_EQ(bytes, "\xE4\xB8\x96");
  std::vector<int> prefix;
  for (unsigned char b : std::string("\xE4\xB8")) {
    for (int id = 0; id < 256; ++id) {
      if (tok.token_bytes(id) == std::string(1, static_cast<char>(b))) prefix.push_back(id);
    }
  }
  ASSERT_EQ(prefix.size(), 2u);
  EXPECT_EQ(tok.decode(prefix), "\uFFFD");
  prefix.push_back(x);
  EXPECT_EQ(tok.decode(prefix), "\uFFFDx");
  // Surrogates, overlongs and code points above U+10FFFF: every byte is its own U+FFFD.
  auto byte_tokens = [&](const std::string& bytes) {
    std::vector<int> ids;
    for (char b : bytes) {
      for (int id = 0; id < 256; ++id) {
        if (tok.token_bytes(id) == std::string(1, b)) ids.push_back(id);
      }
    }
    return ids;
  };
  EXPECT_EQ(tok.decode(byte_tokens("\xED\xA0\x80")), "\uFFFD\uFFFD\uFFFD");
  EXPECT_EQ(tok.decode(byte_tokens("\xE0\x80\xAF")), "\uFFFD\uFFFD\uFFFD");
  EXPECT_EQ(tok.decode(byte_tokens("\xF4\x90\x80\x80")), "\uFFFD\uFFFD\uFFFD\uFFFD");
  EXPECT_EQ(tok.decode(byte_tokens("\xF0\x9F\x98\x80")), "\U0001F600");
}

TEST(TokenizerTest, DecodeDropsTimestampsKeepsOtherSpecials) {
  REQUIRE_SHARED();
  const Tokenizer tok = Tokenizer::from_tiktoken_file(kMultilingual, 51865);
  const auto& s = tok.special();
  std::vector<int> ids = {s.sot, s.first_language, s.transcribe, s.timestamp_begin};
  for (int id : tok.encode(" Hello there.")) ids.push_back(id);
  ids.push_back(s.timestamp_begin + 75);
  ids.push_back(s.eot);
  EXPECT_EQ(tok.decode(ids),
            "<|startoftranscript|><|en|><|transcribe|> Hello there.<|endoftext|>");
  EXPECT_EQ(tok.decode_bytes(ids),
            "<|startoftranscript|><|en|><|transcribe|><|0.00|> Hello there.<|1.50|><|endoftext|>");
  EXPECT_EQ(tok.decode({s.timestamp_begin, s.timestamp_begin + 1500}), "");
}

TEST(TokenizerTest, RoundTripVariedText) {
  REQUIRE_SHARED();
  const std::vector<std::string> texts = {
      "And so, my fellow Americans, ask not what your country can do for you.",
      "It's we've they'll I'm you'd   spaces\t\ttabs\n\nnewlines  ",
      "近几年，不但我用书给女儿压岁。日本語のテキスト。한국어 텍스트",
      "👨‍👩‍👧‍👦 🇯🇵 café Привет مرحبا नमस्ते 123 4.56 ((( )))",
      "<|en|><|endoftext|>", std::string(5000, 'a'), " ", "\n"};
  for (const std::string& path : {kGpt2, kMultilingual}) {
    const Tokenizer tok = Tokenizer::from_tiktoken_file(path, path == kGpt2 ? 51864 : 51865);
    for (const auto& text : texts) {
      const std::vector<int> ids = tok.encode(text);
      EXPECT_EQ(tok.decode(ids), text);
      for (int id : ids) EXPECT_LT(id, tok.special().eot) << "ordinary text gave a special token";
    }
  }
}

TEST(TokenizerTest, SpecialTextIsOrdinaryText) {
  REQUIRE_SHARED();
  const Tokenizer tok = Tokenizer::from_tiktoken_file(kMultilingual, 51865);
  const std::vector<int> ids = tok.encode("<|endoftext|>");
  EXPECT_GT(ids.size(), 1u);
  EXPECT_EQ(tok.decode(ids), "<|endoftext|>");
}

TEST(TokenizerTest, InvalidUtf8InputEncodesAndRoundTripsBytes) {
  REQUIRE_SHARED();
  const Tokenizer tok = Tokenizer::from_tiktoken_file(kGpt2, 51864);
  const std::string input = "ab\xFF\xFE cd \xC3 \xE4\xB8 end\x80";
  const std::vector<int> ids = tok.encode(input);
  EXPECT_EQ(tok.decode_bytes(ids), input);
  EXPECT_EQ(tok.decode(ids), "ab\uFFFD\uFFFD cd \uFFFD \uFFFD end\uFFFD");
}

TEST(TokenizerTest, NonSpeechTokens) {
  REQUIRE_SHARED();
  const Tokenizer en = Tokenizer::from_tiktoken_file(kGpt2, 51864);
  const std::vector<int> en_ids = en.non_speech_tokens();
  ASSERT_EQ(en_ids.size(), 84u);
  EXPECT_EQ(std::vector<int>(en_ids.begin(), en_ids.begin() + 6),
            (std::vector<int>{1, 2, 7, 8, 9, 10}));
  EXPECT_EQ(en_ids.back(), 49146);
  EXPECT_TRUE(std::is_sorted(en_ids.begin(), en_ids.end()));
  const Tokenizer multi = Tokenizer::from_tiktoken_file(kMultilingual, 51865);
  const std::vector<int> multi_ids = multi.non_speech_tokens();
  ASSERT_EQ(multi_ids.size(), 82u);
  EXPECT_EQ(multi_ids[23], 359);  // " -"
  EXPECT_EQ(multi_ids.back(), 50254);
}

TEST(TokenizerTest, ByteTokensEncodeLikeRanks) {
  const Tokenizer tok = Tokenizer::from_byte_tokens(small_tokens(), kSmallVocab);
  EXPECT_EQ(tok.special().eot, kSmallRanks);
  EXPECT_EQ(tok.encode("hello"), (std::vector<int>{259}));        // whole piece is a token
  EXPECT_EQ(tok.encode("hellx"), (std::vector<int>{258, 'x'}));   // he, ll, then hell
  EXPECT_EQ(tok.encode(" world"), (std::vector<int>{262, 'l', 'd'}));  // " w"+"or" -> " wor"
  EXPECT_EQ(tok.encode("xyz"), (std::vector<int>{263}));
  EXPECT_EQ(tok.encode(" xyz"), (std::vector<int>{' ', 'x', 'y', 'z'}));
  EXPECT_EQ(tok.decode(tok.encode("hello world")), "hello world");
}

TEST(TokenizerTest, HfVocabJsonDirectory) {
  TempDir dir;
  nlohmann::json vocab = nlohmann::json::object();
  const auto tokens = small_tokens();
  for (size_t id = 0; id < tokens.size(); ++id) vocab[as_unicode(tokens[id])] = id;
  EXPECT_EQ(as_unicode(" "), "\u0120");  // GPT-2's "Ġ"
  EXPECT_EQ(as_unicode("\n"), "\u010A");
  EXPECT_EQ(as_unicode("\xAD"), "\u0143");
  vocab["<|endoftext|>"] = kSmallRanks;  // HF keeps eot in vocab.json itself
  dir.write("vocab.json", vocab.dump());
  dir.write("added_tokens.json", nlohmann::json{{"<|startoftranscript|>", kSmallRanks + 1},
                                                {"<|en|>", kSmallRanks + 2}}.dump());
  const Tokenizer hf = Tokenizer::from_hf_dir(dir.path().string(), kSmallVocab);
  const Tokenizer ref = Tokenizer::from_byte_tokens(tokens, kSmallVocab);
  EXPECT_EQ(hf.special().sot, kSmallRanks + 1);
  EXPECT_EQ(hf.special().timestamp_begin, ref.special().timestamp_begin);
  for (const std::string& text :
       {"hello world"s, " hello\n\tworld!"s, "\xAD\x00\x7F\xFF héllo"s}) {
    EXPECT_EQ(hf.encode(text), ref.encode(text)) << text;
    EXPECT_EQ(hf.decode(hf.encode(text)), ref.decode(ref.encode(text)));
  }
  EXPECT_EQ(hf.token_bytes(' '), " ");
  EXPECT_EQ(hf.token_bytes(0xAD), "\xAD");

  // An id left unused below <|endoftext|> is an empty token (HF's multilingual vocab has one).
  vocab.erase(as_unicode("xyz"));
  dir.write("vocab.json", vocab.dump());
  const Tokenizer gap = Tokenizer::from_hf_dir(dir.path().string(), kSmallVocab);
  EXPECT_EQ(gap.token_bytes(263), "");
  EXPECT_EQ(gap.encode("xyz"), (std::vector<int>{'x', 'y', 'z'}));
  EXPECT_EQ(gap.special().eot, kSmallRanks);

  // A special token in the wrong place means the files and n_vocab disagree.
  dir.write("added_tokens.json", nlohmann::json{{"<|en|>", kSmallRanks + 5}}.dump());
  expect_error([&] { Tokenizer::from_hf_dir(dir.path().string(), kSmallVocab); },
               {"vocab.json", "<|en|>", std::to_string(kSmallRanks + 5)});
}

TEST(TokenizerTest, HfTokenizerJsonDirectory) {
  TempDir dir;
  nlohmann::json vocab = nlohmann::json::object();
  const auto tokens = small_tokens();
  for (size_t id = 0; id < tokens.size(); ++id) vocab[as_unicode(tokens[id])] = id;
  nlohmann::json added = nlohmann::json::array();
  added.push_back({{"id", kSmallRanks}, {"content", "<|endoftext|>"}, {"special", true}});
  added.push_back({{"id", kSmallRanks + 1}, {"content", "<|startoftranscript|>"}, {"special", true}});
  dir.write("tokenizer.json",
            nlohmann::json{{"added_tokens", added},
                           {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", {}}}}}
                .dump());
  const Tokenizer hf = Tokenizer::from_hf_dir(dir.path().string(), kSmallVocab + 1);
  EXPECT_EQ(hf.special().n_languages, 100);
  EXPECT_EQ(hf.encode("hello world"), (std::vector<int>{259, 262, 'l', 'd'}));
  EXPECT_EQ(hf.decode({259, hf.special().eot}), "hello<|endoftext|>");
}

TEST(TokenizerTest, MissingRankFile) {
  expect_error([] { Tokenizer::from_tiktoken_file("/nonexistent/dir/gpt2.tiktoken", 51864); },
               {"/nonexistent/dir/gpt2.tiktoken", "cannot open"});
}

TEST(TokenizerTest, CorruptBase64Line) {
  TempDir dir;
  const std::string path = dir.write("bad.tiktoken", "IQ== 0\nIg== 1\n!!not*base64 2\n");
  expect_error([&] { Tokenizer::from_tiktoken_file(path, 51864); },
               {path + ":3", "invalid base64", "!!not*base64"});
}

TEST(TokenizerTest, CorruptRankLines) {
  TempDir dir;
  const std::string no_rank = dir.write("a.tiktoken", "IQ== 0\nIg==\n");
  expect_error([&] { Tokenizer::from_tiktoken_file(no_rank, 51864); }, {no_rank + ":2"});
  const std::string bad_rank = dir.write("b.tiktoken", "IQ== 0\nIg== x1\n");
  expect_error([&] { Tokenizer::from_tiktoken_file(bad_rank, 51864); },
               {bad_rank + ":2", "invalid rank"});
  const std::string gap = dir.write("c.tiktoken", "IQ== 0\nIg== 2\n");
  expect_error([&] { Tokenizer::from_tiktoken_file(gap, 51864); }, {gap, "rank 1 is missing"});
  const std::string empty = dir.write("d.tiktoken", "\n\n");
  expect_error([&] { Tokenizer::from_tiktoken_file(empty, 51864); }, {empty, "no ranks"});
}

TEST(TokenizerTest, NVocabInconsistentWithRanks) {
  REQUIRE_SHARED();
  expect_error([] { Tokenizer::from_tiktoken_file(kGpt2, 51866); },
               {kGpt2, "n_vocab 51866", "50256"});
  expect_error([] { Tokenizer::from_tiktoken_file(kMultilingual, 51864); },
               {kMultilingual, "n_vocab 51864", "51865"});
  expect_error([] { Tokenizer::from_tiktoken_file(kMultilingual, 0); }, {"n_vocab 0"});
}

TEST(TokenizerTest, IncompleteByteVocabulary) {
  std::vector<std::string> tokens = small_tokens();
  tokens[0x41] = "AA";  // byte 'A' no longer has a token
  expect_error([&] { Tokenizer::from_byte_tokens(tokens, kSmallVocab); }, {"0x41"});
}

TEST(TokenizerTest, MissingOrCorruptHfFiles) {
  TempDir dir;
  expect_error([&] { Tokenizer::from_hf_dir(dir.path().string(), kSmallVocab); },
               {(dir.path() / "vocab.json").string(), "tokenizer.json"});
  const std::string vocab = dir.write("vocab.json", "{\"a\": 0,");
  expect_error([&] { Tokenizer::from_hf_dir(dir.path().string(), kSmallVocab); },
               {vocab, "invalid JSON"});
  dir.write("vocab.json", "{\"a\": 0, \"b\": 2}");
  expect_error([&] { Tokenizer::from_hf_dir(dir.path().string(), kSmallVocab); },
               {vocab, "id 2"});
  dir.write("vocab.json", "{\"a\": 0, \"\u4e16\": 1}");  // not in GPT-2's byte alphabet
  expect_error([&] { Tokenizer::from_hf_dir(dir.path().string(), kSmallVocab); },
               {vocab, "byte alphabet"});
  dir.write("vocab.json", "{\"a\": 0, \"<|endoftext|>\": 9999}");
  expect_error([&] { Tokenizer::from_hf_dir(dir.path().string(), kSmallVocab); },
               {vocab, "<|endoftext|> has id 9999"});
  dir.write("vocab.json", "{\"a\": \"zero\"}");
  expect_error([&] { Tokenizer::from_hf_dir(dir.path().string(), kSmallVocab); },
               {vocab, "'a'"});
}

TEST(TokenizerTest, BadTokenIdsAndEmptyTokenizer) {
  const Tokenizer tok = Tokenizer::from_byte_tokens(small_tokens(), kSmallVocab);
  expect_error([&] { tok.token_bytes(-1); }, {"token id -1"});
  expect_error([&] { tok.token_bytes(kSmallVocab); }, {"token id " + std::to_string(kSmallVocab)});
  expect_error([&] { tok.decode({'a', -7}); }, {"token id -7"});
  EXPECT_EQ(tok.decode({'a', kSmallVocab + 100}), "a");  // >= timestamp_begin: dropped
  const Tokenizer empty;
  expect_error([&] { empty.encode("x"); }, {"empty Tokenizer"});
}

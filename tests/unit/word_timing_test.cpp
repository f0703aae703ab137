// Unit tests for word-level timestamps (openai-whisper's timing.py): DTW and its tie rules, the
// median filter, standardisation, word splitting, punctuation merging, the boundary rules of
// add_word_timestamps, and Python's round().
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "common/py_round.h"
#include "transcribe/dtw.h"
#include "transcribe/word_split.h"
#include "transcribe/word_timing.h"
#include "wisp/error.h"
#include "wisp/tokenizer.h"

namespace fs = std::filesystem;
using namespace wisp;

namespace {

const std::string kMultilingual = std::string(WISP_SHARED_DIR) + "/assets/multilingual.tiktoken";
constexpr int kEot = 50257;  // multilingual vocabulary

const Tokenizer& multilingual() {
  static const Tokenizer tokenizer = Tokenizer::from_tiktoken_file(kMultilingual, 51865);
  return tokenizer;
}

#define REQUIRE_TOKENIZER() \
  if (!fs::exists(kMultilingual)) GTEST_SKIP() << kMultilingual << " not found (../shared holds the rank files)"

WordTiming word(std::string text, std::vector<int> tokens, double start, double end, double probability = 0.5) {
  WordTiming w;
  w.word = std::move(text);
  w.tokens = std::move(tokens);
  w.start = start;
  w.end = end;
  w.probability = probability;
  return w;
}

Segment segment(int seek, double start, double end, std::vector<int> tokens) {
  Segment s;
  s.seek = seek;
  s.start = start;
  s.end = end;
  s.tokens = std::move(tokens);
  return s;
}

std::vector<std::string> texts(const std::vector<WordTiming>& words) {
  std::vector<std::string> out;
  for (const auto& w : words) out.push_back(w.word);
  return out;
}

}  // namespace

// ---- DTW -----------------------------------------------------------------------------------

TEST(Dtw, SingleCell) {
  const double x[] = {3.0};
  const DtwPath path = dtw(x, 1, 1);
  EXPECT_EQ(path.rows, std::vector<int>({0}));
  EXPECT_EQ(path.cols, std::vector<int>({0}));
}

TEST(Dtw, FollowsTheCheapDiagonalWithAHorizontalStep) {
  const double x[] = {0, 5, 5, 5,  //
                      5, 0, 0, 5,  //
                      5, 5, 5, 0};
  const DtwPath path = dtw(x, 3, 4);
  EXPECT_EQ(path.rows, std::vector<int>({0, 1, 1, 2}));
  EXPECT_EQ(path.cols, std::vector<int>({0, 1, 2, 3}));
}

TEST(Dtw, AllTiesGoDownFirstThenRight) {
  // Equal costs everywhere: each cell prefers left, the backtrace ends up going up first.
  const std::vector<double> zeros(9, 0.0);
  const DtwPath path = dtw(zeros.data(), 3, 3);
  EXPECT_EQ(path.rows, std::vector<int>({0, 1, 2, 2, 2}));
  EXPECT_EQ(path.cols, std::vector<int>({0, 0, 0, 1, 2}));
  const DtwPath wide = dtw(zeros.data(), 2, 4);
  EXPECT_EQ(wide.rows, std::vector<int>({0, 1, 1, 1, 1}));
  EXPECT_EQ(wide.cols, std::vector<int>({0, 0, 1, 2, 3}));
}

TEST(Dtw, TieBetweenDiagonalAndUpTakesLeftEvenWhenDearer) {
  // At the last cell diagonal and up both cost 0, left costs 1: openai's if/elif/else picks left.
  const double x[] = {0, 0,  //
                      1, 0};
  const DtwPath path = dtw(x, 2, 2);
  EXPECT_EQ(path.rows, std::vector<int>({0, 1, 1}));
  EXPECT_EQ(path.cols, std::vector<int>({0, 0, 1}));
}

TEST(Dtw, NegatedPeaksAreFollowed) {
  const double x[] = {-1, 0, 0, 0, 0,  //
                      0, 0, -1, 0, 0,  //
                      0, 0, 0, 0, -1};
  const DtwPath path = dtw(x, 3, 5);
  EXPECT_EQ(path.rows, std::vector<int>({0, 1, 1, 1, 2, 2, 2}));
  EXPECT_EQ(path.cols, std::vector<int>({0, 0, 1, 2, 2, 3, 4}));
}

TEST(Dtw, RejectsEmptyMatrix) { EXPECT_THROW(dtw(nullptr, 0, 3), Error); }

// ---- median filter, softmax, standardisation ---------------------------------------------------

TEST(MedianFilter, Width3And5WithReflectedEdges) {
  std::vector<float> row = {1, 5, 2, 8, 3};
  median_filter_rows(row.data(), 1, 5, 3);  // padded [5 | 1 5 2 8 3 | 8]
  EXPECT_EQ(row, std::vector<float>({5, 2, 5, 3, 8}));
  row = {1, 5, 2, 8, 3};
  median_filter_rows(row.data(), 1, 5, 5);  // padded [2 5 | 1 5 2 8 3 | 8 2]
  EXPECT_EQ(row, std::vector<float>({2, 5, 3, 5, 3}));
}

TEST(MedianFilter, Width7OnShortRowsAndSeveralRows) {
  std::vector<float> rows = {4, 1, 3, 2,  //  padded [2 3 1 | 4 1 3 2 | 3 1 4]
                             0, 0, 0, 0};
  median_filter_rows(rows.data(), 2, 4, 7);
  EXPECT_EQ(rows, std::vector<float>({2, 3, 2, 3, 0, 0, 0, 0}));
  std::vector<float> short_row = {4, 1, 3};  // no longer than width/2: unchanged, as openai
  median_filter_rows(short_row.data(), 1, 3, 7);
  EXPECT_EQ(short_row, std::vector<float>({4, 1, 3}));
  EXPECT_THROW(median_filter_rows(short_row.data(), 1, 3, 4), Error);
}

TEST(Standardize, PerHeadAndFrameOverTokens) {
  // [head][token][frame]. Head 0 frames: [1,3], [2,6]; head 1 frames: [0,4], [5,7].
  std::vector<float> w = {1, 2, 3, 6,  //
                          0, 5, 4, 7};
  standardize_over_tokens(w.data(), 2, 2, 2);
  EXPECT_FLOAT_EQ(w[0], -1);
  EXPECT_FLOAT_EQ(w[1], -1);
  EXPECT_FLOAT_EQ(w[2], 1);
  EXPECT_FLOAT_EQ(w[3], 1);
  EXPECT_FLOAT_EQ(w[4], -1);  // (0 - 2) / 2
  EXPECT_FLOAT_EQ(w[5], -1);  // (5 - 6) / 1
  EXPECT_FLOAT_EQ(w[6], 1);
  EXPECT_FLOAT_EQ(w[7], 1);
  std::vector<float> three = {1, 2, 3};  // population std sqrt(2/3)
  standardize_over_tokens(three.data(), 1, 3, 1);
  EXPECT_NEAR(three[0], -std::sqrt(1.5), 1e-6);
  EXPECT_NEAR(three[1], 0, 1e-7);
  EXPECT_NEAR(three[2], std::sqrt(1.5), 1e-6);
}

TEST(Softmax, RowsSumToOne) {
  std::vector<float> x = {0, std::log(3.0f), 5, 5};
  softmax_rows_inplace(x.data(), 2, 2);
  EXPECT_FLOAT_EQ(x[0], 0.25f);
  EXPECT_FLOAT_EQ(x[1], 0.75f);
  EXPECT_FLOAT_EQ(x[2], 0.5f);
}

TEST(AlignmentMatrix, DropsTheSotRowsAndTheEotRow) {
  // One head, 4 tokens (sot, no_timestamps, text, eot), 3 frames; width 1 disables the filter.
  const std::vector<float> qk = {0, 0, 0,  //
                                 9, 0, 0,  //
                                 0, 0, 9,  //
                                 0, 0, 0};
  const std::vector<double> m = alignment_matrix({qk.data()}, 4, 3, 3, 1, 1);
  ASSERT_EQ(m.size(), 6u);
  // Rows 1 and 2 of the standardised softmax: each peaks where its qk does.
  EXPECT_GT(m[0], m[1]);
  EXPECT_GT(m[5], m[4]);
  EXPECT_NEAR(m[1], m[4], 1e-6);  // both rows are ~0 in the middle frame
}

// ---- words from a DTW path -------------------------------------------------------------------

TEST(WordsFromPath, StartAtTheFirstStepOfEachWordsFirstToken) {
  WordTokens words;
  words.words = {"A", " B", "<|endoftext|>"};
  words.tokens = {{1, 2}, {3}, {kEot}};
  DtwPath path;  // rows: no_timestamps, token 1, token 2, token 3 (4 = text + 1)
  path.rows = {0, 1, 1, 2, 3, 3};
  path.cols = {0, 1, 2, 3, 4, 5};
  const auto result = words_from_path(words, path, {0.2, 0.4, 0.9});
  ASSERT_EQ(result.size(), 2u);
  EXPECT_EQ(result[0].word, "A");
  EXPECT_EQ(result[0].tokens, std::vector<int>({1, 2}));
  EXPECT_DOUBLE_EQ(result[0].start, 0.0);
  EXPECT_DOUBLE_EQ(result[0].end, 3 / 50.0);
  EXPECT_DOUBLE_EQ(result[0].probability, (0.2 + 0.4) / 2);
  EXPECT_DOUBLE_EQ(result[1].start, 3 / 50.0);
  EXPECT_DOUBLE_EQ(result[1].end, 4 / 50.0);
  EXPECT_DOUBLE_EQ(result[1].probability, 0.9);

  WordTokens only_eot;
  only_eot.words = {"<|endoftext|>"};
  only_eot.tokens = {{kEot}};
  EXPECT_TRUE(words_from_path(only_eot, path, {}).empty());
}

// ---- splitting tokens into words -----------------------------------------------------------------

TEST(WordSplit, OnSpacesWithPunctuationAsWords) {
  REQUIRE_TOKENIZER();
  const Tokenizer& tok = multilingual();
  std::vector<int> tokens = tok.encode(" And so, my fellow Americans!");
  tokens.push_back(kEot);
  const WordTokens w = split_to_word_tokens(tok, tokens, "en");
  EXPECT_EQ(w.words, std::vector<std::string>({" And", " so", ",", " my", " fellow", " Americans", "!",
                                               "<|endoftext|>"}));
  EXPECT_EQ(w.tokens.back(), std::vector<int>({kEot}));
}

TEST(WordSplit, SubwordsJoinAndPunctuationIsASubstringTest) {
  REQUIRE_TOKENIZER();
  const Tokenizer& tok = multilingual();
  // " (quoted" is " (" + "qu" + "oted"; "..." is not a substring of string.punctuation, so
  // it stays with " don't"; ")" and '"' are.
  const std::vector<int> tokens = tok.encode(" unbelievably (quoted) \"hi\" don't...");
  const WordTokens w = split_to_word_tokens(tok, tokens, "de");
  EXPECT_EQ(w.words,
            std::vector<std::string>({" unbelievably", " (quoted", ")", " \"hi", "\"", " don't..."}));
  std::vector<int> joined;
  for (const auto& t : w.tokens) joined.insert(joined.end(), t.begin(), t.end());
  EXPECT_EQ(joined, tokens);
  EXPECT_EQ(w.tokens[1].size(), 3u);
}

TEST(WordSplit, OnUnicodeForLanguagesWithoutSpaces) {
  REQUIRE_TOKENIZER();
  const Tokenizer& tok = multilingual();
  const std::vector<int> tokens = tok.encode("\U0001D11Ea \u8fd1\u51e0\u5e74\uff0c");
  for (const char* language : {"zh", "ja", "th", "lo", "my", "yue"}) {
    const WordTokens w = split_to_word_tokens(tok, tokens, language);
    EXPECT_EQ(w.words, std::vector<std::string>({"\U0001D11E", "a", " ", "\u8fd1", "\u51e0", "\u5e74", "\uff0c"}))
        << language;
  }
  // The clef is three byte tokens, none complete on its own.
  EXPECT_EQ(split_tokens_on_unicode(tok, tokens).tokens[0].size(), 3u);
  // Other languages join pieces without a leading space.
  const WordTokens en = split_to_word_tokens(tok, tokens, "en");
  EXPECT_EQ(en.words, std::vector<std::string>({"\U0001D11Ea", " \u8fd1\u51e0\u5e74\uff0c"}));
}

TEST(PythonStrip, UnicodeWhitespace) {
  EXPECT_EQ(python_strip("  \t x y\n"), "x y");
  EXPECT_EQ(python_strip("\u3000\u00a0\u201c\u2003"), "\u201c");
  EXPECT_EQ(python_strip(" "), "");
  EXPECT_EQ(python_strip("\u00e9"), "\u00e9");
}

// ---- merge_punctuations ------------------------------------------------------------------------

TEST(MergePunctuations, OpeningQuoteJoinsNextAndPeriodJoinsPrevious) {
  const WordTimingOptions options;
  std::vector<WordTiming> words = {word(" \"", {1}, 0, 1), word("Hello", {2}, 1, 2), word(" world", {3}, 2, 3),
                                   word(".", {4}, 3, 4)};
  merge_punctuations(words, options.prepend_punctuations, options.append_punctuations);
  EXPECT_EQ(texts(words), std::vector<std::string>({"", " \"Hello", " world.", ""}));
  EXPECT_EQ(words[1].tokens, std::vector<int>({1, 2}));
  EXPECT_EQ(words[2].tokens, std::vector<int>({3, 4}));
  EXPECT_TRUE(words[0].tokens.empty() && words[3].tokens.empty());
  // Times stay those of the word that absorbed the punctuation.
  EXPECT_EQ(words[1].start, 1);
  EXPECT_EQ(words[2].end, 3);
}

TEST(MergePunctuations, UnicodeMarksSubstringsAndSpaces) {
  const WordTimingOptions options;
  std::vector<WordTiming> words = {word(" \u00bf", {1}, 0, 1), word(" Qu\u00e9", {2}, 1, 2),
                                   word(".\u3002", {3}, 2, 3),  // a substring of the appended marks
                                   word("A ", {4}, 3, 4), word("\u201d", {5}, 4, 5),  // after a space: kept
                                   word("\u00bf", {6}, 5, 6)};  // no leading space: not prepended
  merge_punctuations(words, options.prepend_punctuations, options.append_punctuations);
  EXPECT_EQ(texts(words), std::vector<std::string>({"", " \u00bf Qu\u00e9.\u3002", "", "A ", "\u201d", "\u00bf"}));
  // Several prepended marks chain onto the same following word.
  std::vector<WordTiming> chain = {word(" (", {1}, 0, 1), word(" \"", {2}, 1, 2), word(" x", {3}, 2, 3)};
  merge_punctuations(chain, options.prepend_punctuations, options.append_punctuations);
  EXPECT_EQ(texts(chain), std::vector<std::string>({"", "", " ( \" x"}));
  EXPECT_EQ(chain[2].tokens, std::vector<int>({1, 2, 3}));
}

// ---- add_word_timestamps' rules ----------------------------------------------------------------

TEST(AssignWordTimestamps, OffsetsRoundingAndSegmentBounds) {
  std::vector<Segment> segments = {segment(150, 1.5, 2.8, {10, 11, 12, kEot + 100})};
  double last_speech = 0;
  assign_word_timestamps(segments, {word("A", {10}, 0, 0.4), word(" B", {11}, 0.4, 0.8), word(" C", {12}, 0.8, 1.2)},
                         kEot, WordTimingOptions{}, last_speech);
  const auto& w = segments[0].words;
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].start, 1.5);
  EXPECT_EQ(w[0].end, 1.9);
  EXPECT_EQ(w[1].end, 2.3);
  EXPECT_EQ(w[2].end, 2.7);  // round(1.5 + 1.2, 2)
  EXPECT_EQ(segments[0].start, 1.5);
  EXPECT_EQ(segments[0].end, 2.7);
  EXPECT_EQ(last_speech, 2.7);
}

TEST(AssignWordTimestamps, LongFirstWordAfterAPauseIsShortened) {
  // Durations 3, .25, .25, .25: median .25, max .5; the first word ends 3 s after the last speech.
  std::vector<Segment> segments = {segment(0, 0, 3.75, {1, 2, 3, 4})};
  double last_speech = 0;
  assign_word_timestamps(segments,
                         {word("A", {1}, 0, 3), word(" B", {2}, 3, 3.25), word(" C", {3}, 3.25, 3.5),
                          word(" D", {4}, 3.5, 3.75)},
                         kEot, WordTimingOptions{}, last_speech);
  EXPECT_EQ(segments[0].words[0].start, 2.5);
  EXPECT_EQ(segments[0].words[0].end, 3.0);
  EXPECT_EQ(segments[0].start, 2.5);
  EXPECT_EQ(segments[0].end, 3.75);
  // No pause (recent speech): the word keeps its length.
  segments = {segment(0, 0, 3.75, {1, 2, 3, 4})};
  last_speech = 2.5;
  assign_word_timestamps(segments,
                         {word("A", {1}, 0, 3), word(" B", {2}, 3, 3.25), word(" C", {3}, 3.25, 3.5),
                          word(" D", {4}, 3.5, 3.75)},
                         kEot, WordTimingOptions{}, last_speech);
  EXPECT_EQ(segments[0].words[0].start, 0.0);
}

TEST(AssignWordTimestamps, LongSecondWordMovesTheBoundary) {
  // Durations 3, 1, .25, .25, .25: median .25, max .5. boundary = max(4/2, 4-.5) = 3.5.
  std::vector<Segment> segments = {segment(0, 0, 4.75, {1, 2, 3, 4, 5})};
  double last_speech = 0;
  assign_word_timestamps(segments,
                         {word("A", {1}, 0, 3), word(" B", {2}, 3, 4), word(" C", {3}, 4, 4.25),
                          word(" D", {4}, 4.25, 4.5), word(" E", {5}, 4.5, 4.75)},
                         kEot, WordTimingOptions{}, last_speech);
  const auto& w = segments[0].words;
  EXPECT_EQ(w[0].end, 3.5);
  EXPECT_EQ(w[1].start, 3.5);
  EXPECT_EQ(w[0].start, 3.0);
}

TEST(AssignWordTimestamps, PrefersSegmentStartAndEndOverLongEdgeWords) {
  // Median .25. The first word starts 1 s before the segment, the last ends 1.5 s after it.
  std::vector<Segment> segments = {segment(0, 2.0, 4.5, {1, 2, 3, 4, 5})};
  double last_speech = 2.9;
  assign_word_timestamps(segments,
                         {word("A", {1}, 1.0, 3.0), word(" B", {2}, 3.0, 3.25), word(" C", {3}, 3.25, 3.5),
                          word(" D", {4}, 3.5, 3.75), word(" E", {5}, 3.75, 6.0)},
                         kEot, WordTimingOptions{}, last_speech);
  const auto& w = segments[0].words;
  EXPECT_EQ(w[0].start, 2.0);  // max(0, min(3 - .25, 2))
  EXPECT_EQ(w[4].end, 4.5);    // max(3.75 + .25, 4.5)
  EXPECT_EQ(segments[0].start, 2.0);
  EXPECT_EQ(segments[0].end, 4.5);
  EXPECT_EQ(last_speech, 4.5);
}

TEST(AssignWordTimestamps, SentenceEndMarksTruncateLongWords) {
  // Median .25, max .5: "!" (kept apart by the space before it) is cut to .5 s; " C", after a
  // sentence end, starts .5 s before its end.
  std::vector<Segment> segments = {segment(0, 0, 5, {1, 2, 3, 4, 5, 6})};
  double last_speech = 0;
  assign_word_timestamps(segments,
                         {word("A ", {1}, 0, 0.25), word("!", {2}, 0.25, 2.25), word(" C", {3}, 2.25, 4.25),
                          word(" D", {4}, 4.25, 4.5), word(" E", {5}, 4.5, 4.75), word(" F", {6}, 4.75, 5.0)},
                         kEot, WordTimingOptions{}, last_speech);
  const auto& w = segments[0].words;
  ASSERT_EQ(texts(w), std::vector<std::string>({"A ", "!", " C", " D", " E", " F"}));
  EXPECT_EQ(w[1].end, 0.75);
  EXPECT_EQ(w[2].start, 3.75);
}

TEST(AssignWordTimestamps, WordsSplitAcrossSegmentsByTokenCountAndMergedWordsDropped) {
  std::vector<Segment> segments = {segment(3000, 30, 31, {kEot + 1, 1, 2, kEot + 51}),
                                   segment(3000, 31, 32.5, {kEot + 51, 3, 4, kEot + 126})};
  double last_speech = 29.0;
  assign_word_timestamps(segments,
                         {word(" a", {1}, 0, 0.5), word(".", {2}, 0.5, 1.0), word(" \"", {3}, 1.0, 1.5),
                          word("b", {4}, 1.5, 2.5)},
                         kEot, WordTimingOptions{}, last_speech);
  ASSERT_EQ(texts(segments[0].words), std::vector<std::string>({" a."}));
  ASSERT_EQ(texts(segments[1].words), std::vector<std::string>({" \"b"}));
  EXPECT_EQ(segments[0].words[0].tokens, std::vector<int>({1, 2}));
  EXPECT_EQ(segments[0].words[0].start, 30.0);
  EXPECT_EQ(segments[0].words[0].end, 30.5);
  EXPECT_EQ(segments[1].words[0].start, 31.5);
  EXPECT_EQ(segments[1].words[0].end, 32.5);
  EXPECT_EQ(segments[0].end, 30.5);
  EXPECT_EQ(segments[1].start, 31.5);
  EXPECT_EQ(last_speech, 32.5);
  EXPECT_EQ(last_word_end(segments), 32.5);
  EXPECT_EQ(last_word_end(std::span<const Segment>()), std::nullopt);
}

// ---- Python's round ----------------------------------------------------------------------------

TEST(PyRound, MatchesPythonOnBinaryValues) {
  EXPECT_EQ(py_round(2.675, 2), 2.67);  // 2.67499999... in binary
  EXPECT_EQ(py_round(1.005, 2), 1.0);
  EXPECT_EQ(py_round(0.125, 2), 0.12);  // exact tie: to even
  EXPECT_EQ(py_round(0.375, 2), 0.38);
  EXPECT_EQ(py_round(0.285, 2), 0.28);
  EXPECT_EQ(py_round(12.345, 2), 12.35);
  EXPECT_EQ(py_round(2.5, 0), 2.0);
  EXPECT_EQ(py_round(3.5, 0), 4.0);
  EXPECT_EQ(py_round(0.1 + 0.2, 2), 0.3);
  const double negative_zero = py_round(-0.001, 2);
  EXPECT_EQ(negative_zero, 0.0);
  EXPECT_TRUE(std::signbit(negative_zero));
}

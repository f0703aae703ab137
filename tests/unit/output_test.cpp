// Unit tests for the output writers: every format, byte for byte, as openai-whisper's utils.py
// writes it. The expectations were worked out by hand from openai's rules, not by wisp.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "output/python_json.h"
#include "output/subtitles.h"
#include "output/timestamp_format.h"
#include "wisp/error.h"
#include "wisp/output.h"

namespace fs = std::filesystem;
using wisp::format_result;
using wisp::Segment;
using wisp::TranscribeResult;
using wisp::WordTiming;
using wisp::WriterOptions;
using wisp::output::format_timestamp;

namespace {

WordTiming word(const std::string& text, double start, double end, double probability) {
  WordTiming w;
  w.word = text;
  w.start = start;
  w.end = end;
  w.probability = probability;
  return w;
}

Segment segment(int id, int seek, double start, double end, const std::string& text, std::vector<int> tokens,
                double temperature, double avg_logprob, double compression_ratio, double no_speech_prob,
                std::vector<WordTiming> words) {
  Segment s;
  s.id = id;
  s.seek = seek;
  s.start = start;
  s.end = end;
  s.text = text;
  s.tokens = std::move(tokens);
  s.temperature = temperature;
  s.avg_logprob = avg_logprob;
  s.compression_ratio = compression_ratio;
  s.no_speech_prob = no_speech_prob;
  s.words = std::move(words);
  return s;
}

// Three segments: punctuation, non-ASCII and an emoji (one code point, four UTF-8 bytes), a tab,
// "-->", an hour-long gap before the last one. Word times differ from segment times on purpose.
TranscribeResult sample_result() {
  TranscribeResult r;
  r.text = " Hello, world! Gr\u00f6\u00dfe \U0001F44D ok Tab\there --> there.";
  r.language = "en";
  r.segments.push_back(segment(0, 0, 0.0, 2.5, " Hello, world!", {50364, 15947, 11, 1002, 0, 50489}, 0.0, -0.25,
                               1.5, 0.1, {word(" Hello,", 0.0, 0.6, 0.9), word(" world!", 0.8, 1.5, 0.75)}));
  r.segments.push_back(segment(1, 0, 2.5, 5.0, " Gr\u00f6\u00dfe \U0001F44D ok", {50489, 12, 13, 50614}, 0.2, -1.0,
                               2.0, 1e-05,
                               {word(" Gr\u00f6\u00dfe", 2.5, 3.0, 0.5), word(" \U0001F44D", 3.2, 3.6, 0.125),
                                word(" ok", 3.6, 4.0, 1.0)}));
  r.segments.push_back(segment(2, 360000, 3600.0, 3661.25, " Tab\there --> there.", {}, 1.0, -0.123456789, 1e16,
                               0.0001,
                               {word(" Tab\there", 3600.0, 3600.5, 0.99), word(" -->", 3601.0, 3602.0, 0.5),
                                word(" there.", 3602.0, 3661.25, 0.25)}));
  return r;
}

TranscribeResult without_words(TranscribeResult r) {
  for (Segment& s : r.segments) s.words.clear();
  return r;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

class TempDir {
 public:
  TempDir() {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() / ("wisp_output_" + std::to_string(getpid()) + "_" + info->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ignored);
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// --- format_timestamp ---------------------------------------------------------------------------

TEST(FormatTimestamp, ZeroAndMarkers) {
  EXPECT_EQ(format_timestamp(0.0), "00:00.000");
  EXPECT_EQ(format_timestamp(0.0, true), "00:00:00.000");
  EXPECT_EQ(format_timestamp(0.0, true, ","), "00:00:00,000");
  EXPECT_EQ(format_timestamp(-0.0), "00:00.000");
}

TEST(FormatTimestamp, HoursOnlyWhenNonzeroOrForced) {
  EXPECT_EQ(format_timestamp(3599.0), "59:59.000");
  EXPECT_EQ(format_timestamp(3600.0), "01:00:00.000");
  EXPECT_EQ(format_timestamp(3661.25), "01:01:01.250");
  EXPECT_EQ(format_timestamp(3661.25, true, ","), "01:01:01,250");
  EXPECT_EQ(format_timestamp(360000.0), "100:00:00.000");  // {hours:02d} widens, never truncates
}

TEST(FormatTimestamp, RoundsTheBinaryProductHalfToEven) {
  EXPECT_EQ(format_timestamp(59.9995), "01:00.000");       // 59.9995 * 1000.0 == 59999.5 -> 60000
  EXPECT_EQ(format_timestamp(3599.9995), "01:00:00.000");  // carries into the hours
  EXPECT_EQ(format_timestamp(0.0005), "00:00.000");        // 0.5 -> 0 (even)
  EXPECT_EQ(format_timestamp(0.0015), "00:00.002");        // 1.5 -> 2 (even)
  EXPECT_EQ(format_timestamp(0.0025), "00:00.002");        // 2.5 -> 2 (even)
  EXPECT_EQ(format_timestamp(1.0005), "00:01.000");        // 1000.5 -> 1000
  EXPECT_EQ(format_timestamp(2.0005), "00:02.001");        // 2000.5000000000002 -> 2001
  EXPECT_EQ(format_timestamp(4.0005), "00:04.000");        // 4000.4999999999995 -> 4000
  EXPECT_EQ(format_timestamp(59.9994999), "00:59.999");
}

TEST(FormatTimestamp, NegativeOrNanIsAnError) {
  EXPECT_THROW(format_timestamp(-0.001), wisp::Error);
  EXPECT_THROW(format_timestamp(std::nan("")), wisp::Error);
  EXPECT_THROW(format_timestamp(std::numeric_limits<double>::infinity()), wisp::Error);
}

// --- txt, tsv -----------------------------------------------------------------------------------

TEST(OutputFormats, ListsTheFiveWriters) {
  EXPECT_EQ(wisp::output_formats(), (std::vector<std::string>{"txt", "vtt", "srt", "tsv", "json"}));
}

TEST(Txt, OneStrippedSegmentPerLine) {
  EXPECT_EQ(format_result(sample_result(), "txt"),
            "Hello, world!\nGr\u00f6\u00dfe \U0001F44D ok\nTab\there --> there.\n");
}

TEST(Txt, StripsUnicodeWhitespaceLikePython) {
  TranscribeResult r;
  r.segments.push_back(segment(0, 0, 0, 1, "\u3000 a b\u00a0\n", {}, 0, 0, 0, 0, {}));
  EXPECT_EQ(format_result(r, "txt"), "a b\n");
}

TEST(Tsv, IntegerMillisecondsAndTabsAsSpaces) {
  EXPECT_EQ(format_result(sample_result(), "tsv"),
            "start\tend\ttext\n"
            "0\t2500\tHello, world!\n"
            "2500\t5000\tGr\u00f6\u00dfe \U0001F44D ok\n"
            "3600000\t3661250\tTab here --> there.\n");
}

TEST(Tsv, RoundsHalfToEven) {
  TranscribeResult r;
  r.segments.push_back(segment(0, 0, 0.0005, 0.0015, " x", {}, 0, 0, 0, 0, {}));
  EXPECT_EQ(format_result(r, "tsv"), "start\tend\ttext\n0\t2\tx\n");
}

// --- vtt, srt without word timings --------------------------------------------------------------

TEST(Subtitles, WithoutWordsEachSegmentIsOneCue) {
  const TranscribeResult r = without_words(sample_result());
  EXPECT_EQ(format_result(r, "vtt"),
            "WEBVTT\n\n"
            "00:00.000 --> 00:02.500\nHello, world!\n\n"
            "00:02.500 --> 00:05.000\nGr\u00f6\u00dfe \U0001F44D ok\n\n"
            "01:00:00.000 --> 01:01:01.250\nTab\there -> there.\n\n");
  EXPECT_EQ(format_result(r, "srt"),
            "1\n00:00:00,000 --> 00:00:02,500\nHello, world!\n\n"
            "2\n00:00:02,500 --> 00:00:05,000\nGr\u00f6\u00dfe \U0001F44D ok\n\n"
            "3\n01:00:00,000 --> 01:01:01,250\nTab\there -> there.\n\n");
}

TEST(Subtitles, EmptyResult) {
  EXPECT_EQ(format_result(TranscribeResult{}, "vtt"), "WEBVTT\n\n");
  EXPECT_EQ(format_result(TranscribeResult{}, "srt"), "");
  EXPECT_EQ(format_result(TranscribeResult{}, "txt"), "");
  EXPECT_EQ(format_result(TranscribeResult{}, "tsv"), "start\tend\ttext\n");
}

// --- vtt, srt with word timings -----------------------------------------------------------------

TEST(Subtitles, WithWordsCuesSpanTheWordsOfEachSegment) {
  const TranscribeResult r = sample_result();
  EXPECT_EQ(format_result(r, "vtt"),
            "WEBVTT\n\n"
            "00:00.000 --> 00:01.500\nHello, world!\n\n"
            "00:02.500 --> 00:04.000\nGr\u00f6\u00dfe \U0001F44D ok\n\n"
            "01:00:00.000 --> 01:01:01.250\nTab\there --> there.\n\n");
  EXPECT_EQ(format_result(r, "srt"),
            "1\n00:00:00,000 --> 00:00:01,500\nHello, world!\n\n"
            "2\n00:00:02,500 --> 00:00:04,000\nGr\u00f6\u00dfe \U0001F44D ok\n\n"
            "3\n01:00:00,000 --> 01:01:01,250\nTab\there --> there.\n\n");
}

// Widths count code points: " Gr\u00f6\u00dfe \U0001F44D ok" is 10 wide, 15 bytes.
TEST(Subtitles, MaxLineWidthBreaksLinesWithinSegments) {
  WriterOptions options;
  options.max_line_width = 12;
  EXPECT_EQ(format_result(sample_result(), "vtt", options),
            "WEBVTT\n\n"
            "00:00.000 --> 00:01.500\nHello,\nworld!\n\n"
            "00:02.500 --> 00:04.000\nGr\u00f6\u00dfe \U0001F44D ok\n\n"
            "01:00:00.000 --> 01:01:01.250\nTab\there -->\nthere.\n\n");
}

// With both width and count, segments no longer bound cues: words flow across them.
TEST(Subtitles, MaxLineCountStartsNewCues) {
  WriterOptions options;
  options.max_line_width = 12;
  options.max_line_count = 1;
  EXPECT_EQ(format_result(sample_result(), "srt", options),
            "1\n00:00:00,000 --> 00:00:00,600\nHello,\n\n"
            "2\n00:00:00,800 --> 00:00:03,000\nworld! Gr\u00f6\u00dfe\n\n"
            "3\n00:00:03,200 --> 00:00:04,000\n\U0001F44D ok\n\n"
            "4\n01:00:00,000 --> 01:00:02,000\nTab\there -->\n\n"
            "5\n01:00:02,000 --> 01:01:01,250\nthere.\n\n");
}

// The last segment fits on the second line, but starts more than 3 s after the previous word.
TEST(Subtitles, LongPauseStartsANewCue) {
  WriterOptions options;
  options.max_line_width = 20;
  options.max_line_count = 2;
  EXPECT_EQ(format_result(sample_result(), "vtt", options),
            "WEBVTT\n\n"
            "00:00.000 --> 00:04.000\nHello, world! Gr\u00f6\u00dfe\n\U0001F44D ok\n\n"
            "01:00:00.000 --> 01:01:01.250\nTab\there --> there.\n\n");
}

// max_line_count alone keeps segments and uses a line width of 1000.
TEST(Subtitles, MaxLineCountAloneUsesWidth1000) {
  TranscribeResult r;
  const std::string a(600, 'a'), b(599, 'b');
  r.segments.push_back(segment(0, 0, 0, 3, " " + a + " " + b, {}, 0, 0, 0, 0,
                               {word(" " + a, 0.0, 1.0, 0.5), word(" " + b, 1.0, 2.0, 0.5)}));
  EXPECT_EQ(format_result(r, "vtt"), "WEBVTT\n\n00:00.000 --> 00:02.000\n" + a + "\n" + b + "\n\n");
  WriterOptions options;
  options.max_line_count = 1;
  EXPECT_EQ(format_result(r, "vtt", options),
            "WEBVTT\n\n00:00.000 --> 00:01.000\n" + a + "\n\n00:01.000 --> 00:02.000\n" + b + "\n\n");
  EXPECT_EQ(format_result(sample_result(), "vtt", options), format_result(sample_result(), "vtt"));
}

TEST(Subtitles, MaxWordsPerLineSplitsSegmentsIntoChunks) {
  WriterOptions options;
  options.max_words_per_line = 2;
  EXPECT_EQ(format_result(sample_result(), "vtt", options),
            "WEBVTT\n\n"
            "00:00.000 --> 00:01.500\nHello, world!\n\n"
            "00:02.500 --> 00:03.600\nGr\u00f6\u00dfe \U0001F44D\n\n"
            "00:03.600 --> 00:04.000\nok\n\n"
            "01:00:00.000 --> 01:00:02.000\nTab\there -->\n\n"
            "01:00:02.000 --> 01:01:01.250\nthere.\n\n");
  options.max_words_per_line = -1;
  EXPECT_THROW(format_result(sample_result(), "vtt", options), wisp::Error);
}

// Each word gets a cue with it underlined; gaps between words get a cue of the plain text.
TEST(Subtitles, HighlightWords) {
  WriterOptions options;
  options.highlight_words = true;
  EXPECT_EQ(format_result(sample_result(), "vtt", options),
            "WEBVTT\n\n"
            "00:00.000 --> 00:00.600\n<u>Hello,</u> world!\n\n"
            "00:00.600 --> 00:00.800\nHello, world!\n\n"
            "00:00.800 --> 00:01.500\nHello, <u>world!</u>\n\n"
            "00:02.500 --> 00:03.000\n<u>Gr\u00f6\u00dfe</u> \U0001F44D ok\n\n"
            "00:03.000 --> 00:03.200\nGr\u00f6\u00dfe \U0001F44D ok\n\n"
            "00:03.200 --> 00:03.600\nGr\u00f6\u00dfe <u>\U0001F44D</u> ok\n\n"
            "00:03.600 --> 00:04.000\nGr\u00f6\u00dfe \U0001F44D <u>ok</u>\n\n"
            "01:00:00.000 --> 01:00:00.500\n<u>Tab\there</u> --> there.\n\n"
            "01:00:00.500 --> 01:00:01.000\nTab\there --> there.\n\n"
            "01:00:01.000 --> 01:00:02.000\nTab\there <u>--></u> there.\n\n"
            "01:00:02.000 --> 01:01:01.250\nTab\there --> <u>there.</u>\n\n");
}

TEST(Subtitles, HighlightWordsKeepsLineBreaksOutsideTheTags) {
  TranscribeResult r = sample_result();
  r.segments.resize(1);
  WriterOptions options;
  options.highlight_words = true;
  options.max_line_width = 12;
  EXPECT_EQ(format_result(r, "srt", options),
            "1\n00:00:00,000 --> 00:00:00,600\n<u>Hello,</u>\nworld!\n\n"
            "2\n00:00:00,600 --> 00:00:00,800\nHello,\nworld!\n\n"
            "3\n00:00:00,800 --> 00:00:01,500\nHello,\n<u>world!</u>\n\n");
}

TEST(Subtitles, UnderlineFollowsOpenaisRegex) {
  using wisp::output::underline_word;
  EXPECT_EQ(underline_word(" a"), " <u>a</u>");
  EXPECT_EQ(underline_word("\nb"), "\n<u>b</u>");
  EXPECT_EQ(underline_word("ab\n"), "<u>ab</u>\n");  // `$` matches before a final newline
  EXPECT_EQ(underline_word("a\nb"), "a\nb");         // `.` cannot cross a newline: no match
  EXPECT_EQ(underline_word(""), "<u></u>");
  EXPECT_EQ(underline_word(" \n"), " \n<u></u>");
  EXPECT_EQ(underline_word("\u3000x"), "\u3000<u>x</u>");
}

// --- json ---------------------------------------------------------------------------------------

TEST(Json, MatchesPythonJsonDump) {
  TranscribeResult r = sample_result();
  r.language_probs = {{"en", 0.875}, {"de", 1e-05}};
  EXPECT_EQ(
      format_result(r, "json"),
      "{\"text\": \" Hello, world! Gr\\u00f6\\u00dfe \\ud83d\\udc4d ok Tab\\there --> there.\", \"segments\": ["
      "{\"id\": 0, \"seek\": 0, \"start\": 0.0, \"end\": 2.5, \"text\": \" Hello, world!\", "
      "\"tokens\": [50364, 15947, 11, 1002, 0, 50489], \"temperature\": 0.0, \"avg_logprob\": -0.25, "
      "\"compression_ratio\": 1.5, \"no_speech_prob\": 0.1, \"words\": ["
      "{\"word\": \" Hello,\", \"start\": 0.0, \"end\": 0.6, \"probability\": 0.9}, "
      "{\"word\": \" world!\", \"start\": 0.8, \"end\": 1.5, \"probability\": 0.75}]}, "
      "{\"id\": 1, \"seek\": 0, \"start\": 2.5, \"end\": 5.0, \"text\": \" Gr\\u00f6\\u00dfe \\ud83d\\udc4d ok\", "
      "\"tokens\": [50489, 12, 13, 50614], \"temperature\": 0.2, \"avg_logprob\": -1.0, "
      "\"compression_ratio\": 2.0, \"no_speech_prob\": 1e-05, \"words\": ["
      "{\"word\": \" Gr\\u00f6\\u00dfe\", \"start\": 2.5, \"end\": 3.0, \"probability\": 0.5}, "
      "{\"word\": \" \\ud83d\\udc4d\", \"start\": 3.2, \"end\": 3.6, \"probability\": 0.125}, "
      "{\"word\": \" ok\", \"start\": 3.6, \"end\": 4.0, \"probability\": 1.0}]}, "
      "{\"id\": 2, \"seek\": 360000, \"start\": 3600.0, \"end\": 3661.25, \"text\": \" Tab\\there --> there.\", "
      "\"tokens\": [], \"temperature\": 1.0, \"avg_logprob\": -0.123456789, "
      "\"compression_ratio\": 1e+16, \"no_speech_prob\": 0.0001, \"words\": ["
      "{\"word\": \" Tab\\there\", \"start\": 3600.0, \"end\": 3600.5, \"probability\": 0.99}, "
      "{\"word\": \" -->\", \"start\": 3601.0, \"end\": 3602.0, \"probability\": 0.5}, "
      "{\"word\": \" there.\", \"start\": 3602.0, \"end\": 3661.25, \"probability\": 0.25}]}], "
      "\"language\": \"en\", \"language_probs\": {\"en\": 0.875, \"de\": 1e-05}}");
}

TEST(Json, WordsKeyOnEverySegmentOnlyWithWordTimestamps) {
  TranscribeResult r = sample_result();
  r.segments.resize(2);
  r.segments[0].words.clear();  // made with word timestamps, but this segment had none
  r.text = "";
  const std::string with_words = format_result(r, "json");
  EXPECT_NE(with_words.find("\"no_speech_prob\": 0.1, \"words\": []}"), std::string::npos) << with_words;
  const std::string without = format_result(without_words(r), "json");
  EXPECT_EQ(without.find("words"), std::string::npos) << without;
  EXPECT_EQ(format_result(TranscribeResult{}, "json"), "{\"text\": \"\", \"segments\": [], \"language\": \"\"}");
}

TEST(Json, FloatsAsPythonRepr) {
  using wisp::output::json_float;
  EXPECT_EQ(json_float(0.0), "0.0");
  EXPECT_EQ(json_float(-0.0), "-0.0");
  EXPECT_EQ(json_float(2.0), "2.0");
  EXPECT_EQ(json_float(0.1), "0.1");
  EXPECT_EQ(json_float(0.3), "0.3");
  EXPECT_EQ(json_float(-0.25), "-0.25");
  EXPECT_EQ(json_float(2.0 / 3.0), "0.6666666666666666");
  EXPECT_EQ(json_float(1e-05), "1e-05");
  EXPECT_EQ(json_float(0.0001), "0.0001");
  EXPECT_EQ(json_float(1.5e-07), "1.5e-07");
  EXPECT_EQ(json_float(1e16), "1e+16");
  EXPECT_EQ(json_float(1e15 + 0.5), "1000000000000000.5");
  EXPECT_EQ(json_float(9999999999999998.0), "9999999999999998.0");
  EXPECT_EQ(json_float(123456789012345678.0), "1.2345678901234568e+17");
  EXPECT_EQ(json_float(5e-324), "5e-324");
  EXPECT_EQ(json_float(1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(json_float(std::nan("")), "NaN");
  EXPECT_EQ(json_float(std::numeric_limits<double>::infinity()), "Infinity");
  EXPECT_EQ(json_float(-std::numeric_limits<double>::infinity()), "-Infinity");
}

TEST(Json, StringsAsEnsureAscii) {
  using wisp::output::json_string;
  EXPECT_EQ(json_string("a\x7f\x01\x1f\u2028 \"\\/\b\f\r\n\t"),
            "\"a\\u007f\\u0001\\u001f\\u2028 \\\"\\\\/\\b\\f\\r\\n\\t\"");
  EXPECT_EQ(json_string(std::string("nul\0!", 5)), "\"nul\\u0000!\"");
  EXPECT_EQ(json_string("\U0001F44D\u00e9"), "\"\\ud83d\\udc4d\\u00e9\"");
}

TEST(Json, InvalidUtf8BecomesReplacementCharacter) {
  TranscribeResult r;
  r.text = "a\xff" "b\xe2\x82";
  r.segments.push_back(segment(0, 0, 0, 1, "a\xff" "b\xe2\x82", {}, 0, 0, 0, 0, {}));
  const std::string json = format_result(r, "json");
  EXPECT_EQ(json.substr(0, 29), "{\"text\": \"a\\ufffdb\\ufffd\", \"s") << json;
  EXPECT_EQ(format_result(r, "txt"), "a\xef\xbf\xbd" "b\xef\xbf\xbd\n");
}

// --- errors and files ---------------------------------------------------------------------------

TEST(FormatResult, UnknownFormatNamesTheChoices) {
  try {
    format_result(sample_result(), "docx");
    FAIL() << "no error";
  } catch (const wisp::Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("docx"), std::string::npos) << message;
    EXPECT_NE(message.find("txt, vtt, srt, tsv, json"), std::string::npos) << message;
  }
  EXPECT_THROW(format_result(sample_result(), "all"), wisp::Error);
}

TEST(WriteOutputs, AllFormatsNamedAfterTheAudioStem) {
  TempDir dir;
  const fs::path out = dir.path() / "new" / "sub";  // created like os.makedirs(exist_ok=True)
  const TranscribeResult r = sample_result();
  const auto written = wisp::write_outputs(r, "a/b/clip.en.mp3", out.string(), "all");
  const std::vector<std::string> expected = {(out / "clip.en.txt").string(), (out / "clip.en.vtt").string(),
                                             (out / "clip.en.srt").string(), (out / "clip.en.tsv").string(),
                                             (out / "clip.en.json").string()};
  EXPECT_EQ(written, expected);
  EXPECT_EQ(read_file(out / "clip.en.txt"), format_result(r, "txt"));
  EXPECT_EQ(read_file(out / "clip.en.json"), format_result(r, "json"));
  EXPECT_EQ(read_file(out / "clip.en.srt"), format_result(r, "srt"));
}

TEST(WriteOutputs, StemRules) {
  TempDir dir;
  const TranscribeResult r = sample_result();
  const std::string out = dir.path().string() + "/";
  EXPECT_EQ(wisp::write_outputs(r, "-", out, "txt"), std::vector<std::string>{out + "stdin.txt"});
  EXPECT_EQ(wisp::write_outputs(r, "/x/.hidden", out, "tsv"), std::vector<std::string>{out + ".hidden.tsv"});
  EXPECT_EQ(wisp::write_outputs(r, "noext", out, "vtt"), std::vector<std::string>{out + "noext.vtt"});
  EXPECT_EQ(wisp::write_outputs(r, "dir.d/take.", out, "srt"), std::vector<std::string>{out + "take.srt"});
  EXPECT_TRUE(fs::exists(out + "stdin.txt"));
}

TEST(WriteOutputs, UnknownFormatIsAnErrorAndWritesNothing) {
  TempDir dir;
  const fs::path out = dir.path() / "never";
  try {
    wisp::write_outputs(sample_result(), "clip.wav", out.string(), "pdf");
    FAIL() << "no error";
  } catch (const wisp::Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("'pdf'"), std::string::npos) << message;
    EXPECT_NE(message.find("txt, vtt, srt, tsv, json, all"), std::string::npos) << message;
  }
  EXPECT_FALSE(fs::exists(out));
}

TEST(WriteOutputs, UnwritableDirectoryIsAnError) {
  TempDir dir;
  const fs::path file = dir.path() / "a_file";
  std::ofstream(file) << "x";
  const std::string under_file = (file / "out").string();  // a directory cannot be made under a file
  try {
    wisp::write_outputs(sample_result(), "clip.wav", under_file, "txt");
    FAIL() << "no error";
  } catch (const wisp::Error& e) {
    EXPECT_NE(std::string(e.what()).find(under_file), std::string::npos) << e.what();
  }
  if (geteuid() != 0) {  // root may write anywhere
    const fs::path locked = dir.path() / "locked";
    fs::create_directories(locked);
    fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec);
    try {
      wisp::write_outputs(sample_result(), "clip.wav", locked.string(), "json");
      FAIL() << "no error";
    } catch (const wisp::Error& e) {
      EXPECT_NE(std::string(e.what()).find((locked / "clip.json").string()), std::string::npos) << e.what();
    }
    fs::permissions(locked, fs::perms::owner_all);
  }
}

}  // namespace

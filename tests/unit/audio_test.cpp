// Unit tests for wisp/audio.h: decoding (real clips from ../shared), error reporting on bad
// inputs, the mel filterbank, the log-mel spectrogram and its 30 s windows.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "wisp/audio.h"
#include "wisp/error.h"

namespace fs = std::filesystem;

namespace {

const fs::path kAudioDir = fs::path(WISP_SHARED_DIR) / "audio";

std::string clip(const std::string& name) { return (kAudioDir / name).string(); }

#define REQUIRE_SHARED()                                                                \
  if (!fs::exists(kAudioDir)) GTEST_SKIP() << "shared audio not found at " << kAudioDir

// The int16 values behind decoded samples (load_audio returns int16 / 32768).
std::vector<int64_t> as_int16(const std::vector<float>& samples) {
  std::vector<int64_t> values;
  values.reserve(samples.size());
  for (float s : samples) {
    const float scaled = s * 32768.0f;
    EXPECT_EQ(scaled, std::round(scaled)) << "decoded sample is not an int16 / 32768";
    values.push_back(static_cast<int64_t>(scaled));
  }
  return values;
}

int64_t sum(const std::vector<int64_t>& v) { return std::accumulate(v.begin(), v.end(), int64_t{0}); }

int64_t abs_sum(const std::vector<int64_t>& v) {
  int64_t total = 0;
  for (int64_t x : v) total += x < 0 ? -x : x;
  return total;
}

// The 16-bit PCM samples of a canonical WAV file's data chunk (interleaved).
std::vector<int16_t> wav_pcm16(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (size_t i = 12; i + 8 <= bytes.size();) {
    uint32_t size = 0;
    std::memcpy(&size, bytes.data() + i + 4, 4);
    if (std::string(bytes.data() + i, 4) == "data") {
      std::vector<int16_t> pcm(size / 2);
      std::memcpy(pcm.data(), bytes.data() + i + 8, pcm.size() * 2);
      return pcm;
    }
    i += 8 + size;
  }
  ADD_FAILURE() << "no data chunk in " << path;
  return {};
}

// A scratch directory for generated bad inputs, removed afterwards.
class ScratchDir {
 public:
  ScratchDir() {
    path_ = fs::temp_directory_path() /
            ("wisp_audio_test_" + std::to_string(std::random_device{}()));
    fs::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string write(const std::string& name, const std::string& content) const {
    const fs::path file = path_ / name;
    std::ofstream(file, std::ios::binary) << content;
    return file.string();
  }
  std::string path(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

std::string read_prefix(const std::string& path, size_t count) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes(count, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(count));
  bytes.resize(static_cast<size_t>(in.gcount()));
  return bytes;
}

// Expects load_audio(path) to throw wisp::Error whose message contains every `parts`.
void expect_load_error(const std::string& path, const std::vector<std::string>& parts) {
  try {
    wisp::load_audio(path);
    ADD_FAILURE() << "load_audio(" << path << ") did not throw";
  } catch (const wisp::Error& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << "message is not one line: " << message;
    for (const auto& part : parts) {
      EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' not in: " << message;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding. Expected counts and checksums come from openai-whisper's own pipeline,
// `ffmpeg -nostdin -i F -f s16le -ac 1 -acodec pcm_s16le -ar 16000 -` (FFmpeg 5.1, Debian 12),
// summed with numpy as int64.

TEST(LoadAudio, FlacStereo44kMatchesFfmpegCli) {
  REQUIRE_SHARED();
  const auto values = as_int16(wisp::load_audio(clip("jfk.flac")));
  ASSERT_EQ(values.size(), 176000u);
  EXPECT_EQ(sum(values), 79104);
  EXPECT_EQ(abs_sum(values), 446210364);
  EXPECT_EQ(values[100000], 16);
}

TEST(LoadAudio, Mp3MatchesFfmpegCli) {
  REQUIRE_SHARED();
  const auto values = as_int16(wisp::load_audio(clip("jfk.mp3")));
  ASSERT_EQ(values.size(), 176000u);
  EXPECT_EQ(sum(values), 74340);
  EXPECT_EQ(abs_sum(values), 446248660);
}

TEST(LoadAudio, Multilingual24kMp3Length) {
  REQUIRE_SHARED();
  const auto values = as_int16(wisp::load_audio(clip("multilingual.mp3")));
  ASSERT_EQ(values.size(), 958400u);
  EXPECT_EQ(sum(values), -585016);
  EXPECT_EQ(abs_sum(values), 1013998324);
}

TEST(LoadAudio, Mono16kWavIsPassedThroughUnchanged) {
  REQUIRE_SHARED();
  const auto values = as_int16(wisp::load_audio(clip("zh_test.wav")));
  const std::vector<int16_t> pcm = wav_pcm16(clip("zh_test.wav"));
  ASSERT_EQ(values.size(), 134240u);
  ASSERT_EQ(pcm.size(), values.size());
  for (size_t i = 0; i < pcm.size(); ++i) ASSERT_EQ(values[i], pcm[i]) << "sample " << i;
}

TEST(LoadAudio, StereoIsDownmixedToTheChannelAverage) {
  REQUIRE_SHARED();
  const auto values = as_int16(wisp::load_audio(clip("stereo_diarization.wav")));
  const std::vector<int16_t> pcm = wav_pcm16(clip("stereo_diarization.wav"));
  ASSERT_EQ(values.size(), 80000u);
  ASSERT_EQ(pcm.size(), 2 * values.size());
  int64_t left_differs = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    const double average = (pcm[2 * i] + pcm[2 * i + 1]) / 2.0;
    ASSERT_LE(std::abs(values[i] - average), 0.5) << "sample " << i;
    left_differs += values[i] != pcm[2 * i];
  }
  EXPECT_GT(left_differs, 1000) << "the channels should differ, or this test proves nothing";
  EXPECT_EQ(sum(values), -1195935);  // ffmpeg CLI checksum
}

TEST(LoadAudio, OtherSampleRate) {
  REQUIRE_SHARED();
  EXPECT_EQ(wisp::load_audio(clip("jfk.flac"), 8000).size(), 88000u);  // ffmpeg -ar 8000
}

TEST(LoadAudio, TruncatedMp3KeepsWhatDecodes) {
  REQUIRE_SHARED();
  // Like the ffmpeg CLI (and so openai-whisper), a cut-off file yields the audio before the cut;
  // the CLI gives 66287 samples for the first 30000 bytes of jfk.mp3.
  ScratchDir dir;
  const std::string half = dir.write("half.mp3", read_prefix(clip("jfk.mp3"), 30000));
  EXPECT_EQ(wisp::load_audio(half).size(), 66287u);
}

TEST(LoadAudio, ReadsStandardInput) {
  REQUIRE_SHARED();
  ASSERT_NE(std::freopen(clip("jfk.flac").c_str(), "rb", stdin), nullptr);
  const auto values = as_int16(wisp::load_audio("-"));
  ASSERT_EQ(values.size(), 176000u);
  EXPECT_EQ(sum(values), 79104);
}

TEST(LoadAudioErrors, MissingFile) {
  expect_load_error("/nonexistent/dir/speech.wav",
                    {"audio file not found", "/nonexistent/dir/speech.wav"});
}

TEST(LoadAudioErrors, TextFileNamedWav) {
  ScratchDir dir;
  const std::string path = dir.write("notes.wav", "these are meeting notes, not audio\n");
  expect_load_error(path, {"cannot decode audio from " + path, "audio or video file"});
}

TEST(LoadAudioErrors, EmptyFile) {
  ScratchDir dir;
  const std::string path = dir.write("empty.mp3", "");
  expect_load_error(path, {"cannot decode audio from " + path});
}

TEST(LoadAudioErrors, TruncatedToHeader) {
  REQUIRE_SHARED();
  ScratchDir dir;
  // The first 30 bytes of a WAV: the header is cut mid-way.
  const std::string cut = dir.write("cut.wav", read_prefix(clip("zh_test.wav"), 30));
  expect_load_error(cut, {"cannot decode audio from " + cut});
  // A complete 44-byte header announcing data that is not there: zero samples.
  const std::string header = dir.write("header.wav", read_prefix(clip("zh_test.wav"), 44));
  expect_load_error(header, {header, "no audio"});
  // 100 bytes of an mp3.
  const std::string mp3 = dir.write("cut.mp3", read_prefix(clip("jfk.mp3"), 100));
  expect_load_error(mp3, {mp3});
}

TEST(LoadAudioErrors, Directory) {
  ScratchDir dir;
  expect_load_error(dir.path(""), {"directory"});
}

TEST(LoadAudioErrors, BadSampleRate) {
  REQUIRE_SHARED();
  EXPECT_THROW(wisp::load_audio(clip("jfk.flac"), 0), wisp::Error);
}

// ---------------------------------------------------------------------------------------------
// Mel filterbank. Expected values were read from openai-whisper's mel_filters.npz with numpy
// (np.load(...)["mel_80"][i, j], .sum(), (m > 0).sum()); the oracle test compares every entry.

struct FilterEntry {
  int mel;
  int bin;
  double value;
};

void expect_filters(int n_mels, const std::vector<FilterEntry>& entries, double total,
                    int nonzero) {
  const std::vector<float> bank = wisp::mel_filters(n_mels);
  ASSERT_EQ(bank.size(), static_cast<size_t>(n_mels) * 201);
  for (const auto& e : entries) {
    EXPECT_NEAR(bank[static_cast<size_t>(e.mel) * 201 + e.bin], e.value, 1e-9)
        << "mel " << e.mel << " bin " << e.bin;
  }
  EXPECT_NEAR(std::accumulate(bank.begin(), bank.end(), 0.0), total, 1e-6);
  EXPECT_EQ(std::count_if(bank.begin(), bank.end(), [](float w) { return w > 0; }), nonzero);
}

TEST(MelFilters, Matches80BandReference) {
  expect_filters(80,
                 {{0, 1, 0.02486259490251541},
                  {10, 10, 0.01990821771323681},
                  {40, 43, 0.014735566452145576},
                  {79, 192, 0.0031647118739783764},
                  {79, 199, 0.0004487590049393475},
                  {79, 200, 0.0}},
                 1.9990241527557373, 391);
}

TEST(MelFilters, Matches128BandReference) {
  expect_filters(128,
                 {{0, 1, 0.012373986653983593},
                  {1, 1, 0.030392564833164215},
                  {64, 43, 0.018091518431901932},
                  {127, 195, 0.005041601601988077},
                  {127, 199, 0.0011142801959067583}},
                 3.1909854412078857, 394);
}

TEST(MelFilters, RejectsBadBandCount) {
  EXPECT_THROW(wisp::mel_filters(0), wisp::Error);
  EXPECT_THROW(wisp::mel_filters(-80), wisp::Error);
}

// ---------------------------------------------------------------------------------------------
// Log-mel spectrogram.

// openai-whisper's log-mel computed naively in double: reflect-padded frames, periodic Hann,
// direct DFT, power, mel projection, log10/clamp/floor/scale.
std::vector<double> naive_log_mel(const std::vector<float>& x, int n_mels) {
  const int n = static_cast<int>(x.size());
  const int frames = n / 160;
  const std::vector<float> bank = wisp::mel_filters(n_mels);
  std::vector<double> out(static_cast<size_t>(n_mels) * frames);
  for (int t = 0; t < frames; ++t) {
    std::vector<double> power(201);
    for (int k = 0; k < 201; ++k) {
      double re = 0, im = 0;
      for (int i = 0; i < 400; ++i) {
        int j = t * 160 + i - 200;
        if (j < 0) j = -j;
        if (j >= n) j = 2 * (n - 1) - j;
        const double w = 0.5 - 0.5 * std::cos(2 * std::numbers::pi * i / 400);
        const double angle = -2 * std::numbers::pi * k * i / 400;
        re += x[j] * w * std::cos(angle);
        im += x[j] * w * std::sin(angle);
      }
      power[k] = re * re + im * im;
    }
    for (int m = 0; m < n_mels; ++m) {
      double energy = 0;
      for (int k = 0; k < 201; ++k) energy += bank[static_cast<size_t>(m) * 201 + k] * power[k];
      out[static_cast<size_t>(m) * frames + t] = std::log10(std::max(energy, 1e-10));
    }
  }
  const double peak = *std::max_element(out.begin(), out.end());
  for (double& v : out) v = (std::max(v, peak - 8.0) + 4.0) / 4.0;
  return out;
}

std::vector<float> noise(size_t count, float amplitude) {
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> dist(-amplitude, amplitude);
  std::vector<float> x(count);
  for (float& v : x) v = dist(rng);
  return x;
}

TEST(LogMel, MatchesNaiveDftReference) {
  // Noise with a quiet tail, so the floor at max-8 engages in some bands.
  std::vector<float> x = noise(3200, 0.5f);
  for (size_t i = 1600; i < x.size(); ++i) x[i] *= 1e-4f;
  for (int n_mels : {80, 128}) {
    const wisp::LogMel mel = wisp::log_mel_spectrogram(x, n_mels);
    const std::vector<double> expected = naive_log_mel(x, n_mels);
    ASSERT_EQ(mel.n_mels, n_mels);
    ASSERT_EQ(mel.n_frames, 20);
    double worst = 0;
    for (size_t i = 0; i < expected.size(); ++i) {
      worst = std::max(worst, std::abs(mel.data[i] - expected[i]));
    }
    EXPECT_LT(worst, 2e-6) << n_mels << " mels";
  }
}

TEST(LogMel, FrameCountFollowsPadding) {
  const std::vector<float> x = noise(176000, 0.1f);
  EXPECT_EQ(wisp::log_mel_spectrogram(x, 80).n_frames, 1100);
  const wisp::LogMel padded = wisp::log_mel_spectrogram(x, 128, wisp::kChunkSamples);
  EXPECT_EQ(padded.n_mels, 128);
  EXPECT_EQ(padded.n_frames, 4100);
  EXPECT_EQ(padded.data.size(), 128u * 4100u);
  EXPECT_EQ(wisp::log_mel_spectrogram(noise(1759, 0.1f), 80).n_frames, 10);  // 1759 / 160
}

TEST(LogMel, SilenceIsTheFloor) {
  // log10(1e-10) = -10 everywhere, so (x + 4) / 4 = -1.5.
  const std::vector<float> silence(16000, 0.0f);
  const wisp::LogMel mel = wisp::log_mel_spectrogram(silence, 80, 480000);
  ASSERT_EQ(mel.n_frames, 3100);
  for (float v : mel.data) ASSERT_EQ(v, -1.5f);
}

TEST(LogMel, ToneLightsItsBandAndFloorsTheRest) {
  // A 1 kHz tone is exactly FFT bin 25 (40 Hz per bin).
  std::vector<float> tone(16000);
  for (size_t i = 0; i < tone.size(); ++i) {
    tone[i] = 0.5f * static_cast<float>(std::sin(2 * std::numbers::pi * 1000.0 * i / 16000));
  }
  const wisp::LogMel mel = wisp::log_mel_spectrogram(tone, 80);
  const std::vector<float> bank = wisp::mel_filters(80);
  int expected_band = 0;
  for (int m = 1; m < 80; ++m) {
    if (bank[m * 201 + 25] > bank[expected_band * 201 + 25]) expected_band = m;
  }
  const int frame = 50;
  int loudest = 0;
  for (int m = 1; m < 80; ++m) {
    if (mel.row(m)[frame] > mel.row(loudest)[frame]) loudest = m;
  }
  EXPECT_EQ(loudest, expected_band);
  const float peak = *std::max_element(mel.data.begin(), mel.data.end());
  const float low = *std::min_element(mel.data.begin(), mel.data.end());
  EXPECT_FLOAT_EQ(low, peak - 2.0f);  // the max-8 floor, scaled by 1/4
}

TEST(LogMel, ThreadCountDoesNotChangeTheResult) {
  const std::vector<float> x = noise(16000 * 20, 0.3f);  // more than one block of frames
  const wisp::LogMel one = wisp::log_mel_spectrogram(x, 80, 0, 1);
  const wisp::LogMel many = wisp::log_mel_spectrogram(x, 80, 0, 3);
  EXPECT_EQ(one.data, many.data);
  EXPECT_EQ(one.data, wisp::log_mel_spectrogram(x, 80).data);
}

TEST(LogMel, ExplicitFiltersAreUsed) {
  const std::vector<float> x = noise(8000, 0.3f);
  const std::vector<float> bank = wisp::mel_filters(80);
  EXPECT_EQ(wisp::log_mel_spectrogram(x, 80, 0, 0, bank).data,
            wisp::log_mel_spectrogram(x, 80).data);
  std::vector<float> doubled = bank;
  for (float& w : doubled) w *= 2;
  EXPECT_NE(wisp::log_mel_spectrogram(x, 80, 0, 0, doubled).data,
            wisp::log_mel_spectrogram(x, 80).data);
  EXPECT_THROW(wisp::log_mel_spectrogram(x, 128, 0, 0, bank), wisp::Error);
}

TEST(LogMel, TinyInputsDoNotFail) {
  // Shorter than one hop: no frames.
  EXPECT_EQ(wisp::log_mel_spectrogram(noise(100, 0.5f), 80).n_frames, 0);
  EXPECT_EQ(wisp::log_mel_spectrogram(std::vector<float>{}, 80).n_frames, 0);
  // Shorter than the 200-sample reflect padding (torch would refuse): reflect what exists,
  // zeros beyond.
  const wisp::LogMel mel = wisp::log_mel_spectrogram(noise(170, 0.5f), 80);
  ASSERT_EQ(mel.n_frames, 1);
  for (float v : mel.data) EXPECT_TRUE(std::isfinite(v));
  // Empty audio padded to a full window is a silent window.
  const wisp::LogMel padded = wisp::log_mel_spectrogram(std::vector<float>{}, 80, 480000);
  EXPECT_EQ(padded.n_frames, 3000);
}

TEST(LogMel, RejectsBadArguments) {
  const std::vector<float> x(1600, 0.0f);
  EXPECT_THROW(wisp::log_mel_spectrogram(x, 80, -1), wisp::Error);
  EXPECT_THROW(wisp::log_mel_spectrogram(x, 80, 0, -2), wisp::Error);
  EXPECT_THROW(wisp::log_mel_spectrogram(x, 0), wisp::Error);
}

TEST(MelWindow, CopiesFramesAndZeroPadsTheRest) {
  const wisp::LogMel mel = wisp::log_mel_spectrogram(noise(176000, 0.3f), 80);  // 1100 frames
  const wisp::LogMel window = wisp::mel_window(mel, 1000);
  ASSERT_EQ(window.n_mels, 80);
  ASSERT_EQ(window.n_frames, 3000);
  for (int m = 0; m < 80; ++m) {
    for (int t = 0; t < 100; ++t) ASSERT_EQ(window.row(m)[t], mel.row(m)[1000 + t]);
    for (int t = 100; t < 3000; ++t) ASSERT_EQ(window.row(m)[t], 0.0f);
  }
  const wisp::LogMel inner = wisp::mel_window(mel, 10, 20);
  EXPECT_EQ(inner.n_frames, 20);
  EXPECT_EQ(inner.row(79)[19], mel.row(79)[29]);
  const wisp::LogMel past_end = wisp::mel_window(mel, 5000);
  EXPECT_EQ(past_end.data, std::vector<float>(80u * 3000u, 0.0f));
  EXPECT_THROW(wisp::mel_window(mel, -1), wisp::Error);
}

}  // namespace

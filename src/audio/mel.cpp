// audio/mel.cpp - openai-whisper's log-mel spectrogram and its 30 s windows.
//
// Follows whisper/audio.py: zero padding appended, torch.stft(n_fft 400, hop 160, periodic Hann,
// center=True, reflect padding), last frame dropped, |X|^2, mel projection, log10 with a 1e-10
// clamp, floor at (max - 8), then (x + 4) / 4. Frames are transformed in parallel (OpenMP, one
// FFTW buffer pair per thread) in blocks, and each block is projected with one sgemm, so memory
// stays bounded for long recordings.
#include <algorithm>
#include <cblas.h>
#include <cmath>
#include <cstddef>
#include <limits>
#include <memory>
#include <numbers>
#include <string>
#include <vector>

#include <omp.h>

#include "audio/fft_plan.h"
#include "wisp/audio.h"
#include "wisp/error.h"

namespace wisp {

namespace {

constexpr int kBins = kNFft / 2 + 1;
constexpr int kCenterPad = kNFft / 2;
constexpr int kFramesPerBlock = 2048;

// torch.hann_window(400) (periodic): 0.5 - 0.5 cos(2 pi k / 400).
std::vector<float> periodic_hann() {
  std::vector<float> window(kNFft);
  for (int k = 0; k < kNFft; ++k) {
    window[k] = static_cast<float>(0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * k / kNFft));
  }
  return window;
}

// The padded signal torch.stft sees: `samples`, then `padding` zeros (length `length` in all),
// reflected by 200 samples at both ends. torch requires length > 200 for reflect padding; for
// shorter inputs we reflect as far as the signal reaches and treat the rest as zeros, so tiny
// clips still give a (quiet) spectrogram instead of an error.
class CenteredSignal {
 public:
  CenteredSignal(std::span<const float> samples, size_t length)
      : samples_(samples), length_(static_cast<std::ptrdiff_t>(length)) {}

  // Sample at position `index` of the reflect-padded signal (index 0 is 200 samples before the
  // first real sample).
  float at(std::ptrdiff_t index) const {
    std::ptrdiff_t j = index - kCenterPad;
    if (j < 0) j = -j;
    if (j >= length_) j = 2 * (length_ - 1) - j;
    if (j < 0 || j >= length_) return 0.0f;  // beyond what a short input can reflect
    return j < static_cast<std::ptrdiff_t>(samples_.size()) ? samples_[j] : 0.0f;
  }

 private:
  std::span<const float> samples_;
  std::ptrdiff_t length_;
};

int resolve_threads(int n_threads) {
  if (n_threads < 0) {
    throw Error("invalid thread count " + std::to_string(n_threads) + "; use 0 for all cores");
  }
  return n_threads == 0 ? std::max(1, omp_get_max_threads()) : n_threads;
}

// Power spectra of frames [first, first+count) into power[count][kBins].
void power_spectra(const CenteredSignal& signal, const std::vector<float>& window, int first,
                   int count, std::vector<float>& power,
                   std::vector<std::unique_ptr<audio::FrameFft::Buffers>>& buffers) {
  const audio::FrameFft& fft = audio::FrameFft::instance();
  const int threads = static_cast<int>(buffers.size());
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int i = 0; i < count; ++i) {
    audio::FrameFft::Buffers& buffer = *buffers[omp_get_thread_num()];
    const std::ptrdiff_t start = static_cast<std::ptrdiff_t>(first + i) * kHopLength;
    for (int k = 0; k < kNFft; ++k) buffer.input[k] = signal.at(start + k) * window[k];
    fft.transform(buffer);
    float* row = power.data() + static_cast<size_t>(i) * kBins;
    for (int b = 0; b < kBins; ++b) {
      const float re = buffer.output[b][0];
      const float im = buffer.output[b][1];
      row[b] = re * re + im * im;
    }
  }
}

// log10 with the 1e-10 clamp, floor at max - 8, then (x + 4) / 4, all in float as torch does.
void normalise_log(std::vector<float>& values, int threads) {
  const std::ptrdiff_t count = static_cast<std::ptrdiff_t>(values.size());
  float peak = -std::numeric_limits<float>::infinity();
#pragma omp parallel for num_threads(threads) reduction(max : peak) schedule(static)
  for (std::ptrdiff_t i = 0; i < count; ++i) {
    values[i] = std::log10(std::max(values[i], 1e-10f));
    peak = std::max(peak, values[i]);
  }
  const float floor = peak - 8.0f;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (std::ptrdiff_t i = 0; i < count; ++i) values[i] = (std::max(values[i], floor) + 4.0f) / 4.0f;
}

}  // namespace

LogMel log_mel_spectrogram(std::span<const float> samples, int n_mels, int padding, int n_threads,
                           std::span<const float> filters) {
  if (padding < 0) {
    throw Error("invalid mel padding " + std::to_string(padding) + "; it must be >= 0 samples");
  }
  const int threads = resolve_threads(n_threads);
  std::vector<float> computed;
  if (filters.empty()) {
    computed = mel_filters(n_mels);
    filters = computed;
  } else if (n_mels <= 0 || filters.size() != static_cast<size_t>(n_mels) * kBins) {
    throw Error("mel filterbank has " + std::to_string(filters.size()) + " values but " +
                std::to_string(n_mels) + " bands need " + std::to_string(n_mels) + "x" +
                std::to_string(kBins) + "; the model's filters do not match its mel count");
  }

  const size_t length = samples.size() + static_cast<size_t>(padding);
  const size_t frames = length / kHopLength;  // 1 + length/hop STFT frames, last one dropped
  if (frames > static_cast<size_t>(std::numeric_limits<int>::max() / std::max(n_mels, 1))) {
    throw Error("audio too long for a spectrogram (" + std::to_string(length) + " samples)");
  }
  LogMel mel;
  mel.n_mels = n_mels;
  mel.n_frames = static_cast<int>(frames);
  mel.data.assign(static_cast<size_t>(n_mels) * frames, 0.0f);
  if (frames == 0) return mel;

  const CenteredSignal signal(samples, length);
  const std::vector<float> window = periodic_hann();
  std::vector<std::unique_ptr<audio::FrameFft::Buffers>> buffers;
  for (int t = 0; t < threads; ++t) buffers.push_back(std::make_unique<audio::FrameFft::Buffers>());
  std::vector<float> power(static_cast<size_t>(kFramesPerBlock) * kBins);

  for (int first = 0; first < mel.n_frames; first += kFramesPerBlock) {
    const int count = std::min(kFramesPerBlock, mel.n_frames - first);
    power_spectra(signal, window, first, count, power, buffers);
    // mel[:, first:first+count] = filters[n_mels][201] @ power[count][201]^T
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n_mels, count, kBins, 1.0f,
                filters.data(), kBins, power.data(), kBins, 0.0f, mel.data.data() + first,
                mel.n_frames);
  }
  normalise_log(mel.data, threads);
  return mel;
}

LogMel mel_window(const LogMel& mel, int offset, int n_frames) {
  return mel_segment(mel, offset, n_frames, n_frames);
}

LogMel mel_segment(const LogMel& mel, int offset, int content, int n_frames) {
  if (offset < 0 || n_frames < 0 || content < 0) {
    throw Error("invalid mel window (offset " + std::to_string(offset) + ", " +
                std::to_string(n_frames) + " frames); both must be >= 0");
  }
  LogMel window;
  window.n_mels = mel.n_mels;
  window.n_frames = n_frames;
  window.data.assign(static_cast<size_t>(mel.n_mels) * n_frames, 0.0f);
  const int available = std::clamp(std::min(mel.n_frames - offset, content), 0, n_frames);
  if (available == 0) return window;  // past the end: all padding
  for (int m = 0; m < mel.n_mels; ++m) {
    std::copy_n(mel.row(m) + offset, available,
                window.data.data() + static_cast<size_t>(m) * n_frames);
  }
  return window;
}

}  // namespace wisp

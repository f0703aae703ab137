// audio/mel_filters.cpp - the Slaney-style mel filterbank Whisper was trained with.
//
// Reproduces librosa.filters.mel(sr=16000, n_fft=400, n_mels, htk=False, norm="slaney"), which
// openai-whisper stored in mel_filters.npz, step by step in double precision - including
// librosa's rounding of the triangle weights to float32 before the normalisation multiply - so
// the result matches the stored banks to the last bit or so.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "wisp/audio.h"
#include "wisp/error.h"

namespace wisp {

namespace {

// Slaney's mel scale: linear (200/3 Hz per mel) below 1 kHz, logarithmic above.
constexpr double kLinearHzPerMel = 200.0 / 3.0;
constexpr double kLogStartHz = 1000.0;
const double kLogStartMel = kLogStartHz / kLinearHzPerMel;
const double kLogStep = std::log(6.4) / 27.0;

double hz_to_mel(double hz) {
  if (hz >= kLogStartHz) return kLogStartMel + std::log(hz / kLogStartHz) / kLogStep;
  return hz / kLinearHzPerMel;
}

double mel_to_hz(double mel) {
  if (mel >= kLogStartMel) return kLogStartHz * std::exp(kLogStep * (mel - kLogStartMel));
  return kLinearHzPerMel * mel;
}

// numpy.linspace(start, stop, count) as numpy computes it (i*step + start, exact endpoint).
std::vector<double> linspace(double start, double stop, int count) {
  std::vector<double> values(static_cast<size_t>(count));
  const double step = (stop - start) / (count - 1);
  for (int i = 0; i < count; ++i) values[i] = static_cast<double>(i) * step + start;
  values.back() = stop;
  return values;
}

}  // namespace

std::vector<float> mel_filters(int n_mels) {
  if (n_mels <= 0 || n_mels > 1024) {
    throw Error("invalid mel band count " + std::to_string(n_mels) +
                "; Whisper models use 80 or 128");
  }
  constexpr int kBins = kNFft / 2 + 1;
  const double nyquist = kSampleRate / 2.0;

  // Band edges: n_mels + 2 points evenly spaced in mel between 0 Hz and Nyquist.
  std::vector<double> edges = linspace(hz_to_mel(0.0), hz_to_mel(nyquist), n_mels + 2);
  for (double& edge : edges) edge = mel_to_hz(edge);

  std::vector<float> bank(static_cast<size_t>(n_mels) * kBins);
  for (int band = 0; band < n_mels; ++band) {
    const double lower_width = edges[band + 1] - edges[band];
    const double upper_width = edges[band + 2] - edges[band + 1];
    // Slaney normalisation: each triangle has unit area in Hz.
    const double area_norm = 2.0 / (edges[band + 2] - edges[band]);
    for (int bin = 0; bin < kBins; ++bin) {
      const double hz = bin * (static_cast<double>(kSampleRate) / kNFft);
      const double rising = (hz - edges[band]) / lower_width;
      const double falling = (edges[band + 2] - hz) / upper_width;
      const auto triangle = static_cast<float>(std::max(0.0, std::min(rising, falling)));
      bank[static_cast<size_t>(band) * kBins + bin] =
          static_cast<float>(static_cast<double>(triangle) * area_norm);
    }
  }
  return bank;
}

}  // namespace wisp

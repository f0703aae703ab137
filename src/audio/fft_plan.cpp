// audio/fft_plan.cpp - creation of the process-wide FFTW plan.
#include "audio/fft_plan.h"

#include <mutex>
#include <new>

#include "wisp/audio.h"
#include "wisp/error.h"

namespace wisp::audio {

namespace {
// Guards every use of FFTW's planner in this library.
std::mutex planner_mutex;
}  // namespace

FrameFft::Buffers::Buffers()
    : input(fftwf_alloc_real(kNFft)), output(fftwf_alloc_complex(kNFft / 2 + 1)) {
  if (!input || !output) {
    fftwf_free(input);
    fftwf_free(output);
    throw std::bad_alloc();
  }
}

FrameFft::Buffers::~Buffers() {
  fftwf_free(input);
  fftwf_free(output);
}

FrameFft::FrameFft() {
  std::lock_guard<std::mutex> lock(planner_mutex);
  Buffers scratch;
  // FFTW_ESTIMATE: deterministic (no timing-dependent algorithm choice) and instant to plan.
  plan_ = fftwf_plan_dft_r2c_1d(kNFft, scratch.input, scratch.output, FFTW_ESTIMATE);
  if (!plan_) throw Error("FFTW could not plan a " + std::to_string(kNFft) + "-point FFT");
}

const FrameFft& FrameFft::instance() {
  // The plan lives for the whole process (FFTW plans are cheap; destroying at exit would race
  // with threads still computing spectrograms).
  static const FrameFft* fft = new FrameFft();
  return *fft;
}

}  // namespace wisp::audio

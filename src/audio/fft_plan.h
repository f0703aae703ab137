// audio/fft_plan.h - the shared FFTW plan for Whisper's 400-point real FFT.
#pragma once

#include <complex>

#include <fftw3.h>

namespace wisp::audio {

// A 400-point real-to-complex FFTW plan, created once per process. FFTW's planner is not
// thread-safe, but executing one plan on different buffers from many threads is, so each
// thread owns a FrameBuffers and calls transform().
class FrameFft {
 public:
  static const FrameFft& instance();

  // FFTW-allocated (SIMD-aligned like the plan's own arrays) input and output of one frame.
  struct Buffers {
    Buffers();
    ~Buffers();
    Buffers(const Buffers&) = delete;
    Buffers& operator=(const Buffers&) = delete;
    float* input;            // kNFft samples
    fftwf_complex* output;   // kNFft/2 + 1 bins
  };

  void transform(Buffers& buffers) const { fftwf_execute_dft_r2c(plan_, buffers.input, buffers.output); }

 private:
  FrameFft();
  fftwf_plan plan_ = nullptr;
};

}  // namespace wisp::audio

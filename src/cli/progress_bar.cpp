#include "cli/progress_bar.h"

#include <algorithm>
#include <cstdio>

namespace wisp::cli {

ProgressBar::ProgressBar(std::string label) : label_(std::move(label)), start_(std::chrono::steady_clock::now()) {}

void ProgressBar::update(int done, int total) {
  if (total <= 0) return;
  constexpr int kWidth = 30;
  const double fraction = std::clamp(static_cast<double>(done) / total, 0.0, 1.0);
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar(filled, '#');
  bar.resize(kWidth, '.');
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double audio_seconds = done / 100.0;
  std::fprintf(stderr, "\r%s [%s] %3.0f%% %6.1f/%.1f s audio, %.1f s elapsed", label_.c_str(), bar.c_str(),
               fraction * 100, audio_seconds, total / 100.0, elapsed);
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::finish() {
  if (drawn_) std::fputc('\n', stderr);
  drawn_ = false;
}

}  // namespace wisp::cli

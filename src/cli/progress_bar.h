// A one-line progress bar on stderr, redrawn in place (for long inputs).
#pragma once

#include <chrono>
#include <string>

namespace wisp::cli {

class ProgressBar {
 public:
  // `label`: shown before the bar (e.g. the file name).
  explicit ProgressBar(std::string label);
  // Redraws with `done` of `total` (mel frames); cheap to call often.
  void update(int done, int total);
  // Ends the line (leaves the full bar visible).
  void finish();

 private:
  std::string label_;
  std::chrono::steady_clock::time_point start_;
  bool drawn_ = false;
};

}  // namespace wisp::cli

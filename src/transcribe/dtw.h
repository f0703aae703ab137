// The numeric steps of openai-whisper's word alignment (timing.py): median filter along time
// and dynamic time warping of tokens against audio frames.
#pragma once

#include <vector>

namespace wisp {

// openai's median_filter: each row of x [rows][cols] (row-major) replaced by the median of a
// `width`-wide window (odd width), the row padded by reflection as torch's F.pad(mode="reflect").
// Rows no longer than width/2 are left unchanged, as openai does.
void median_filter_rows(float* x, int rows, int cols, int width);

// The monotonic path through a cost matrix, as parallel index lists (openai's dtw output:
// text_indices, time_indices), from (0, 0) to (rows-1, cols-1).
struct DtwPath {
  std::vector<int> rows;
  std::vector<int> cols;
};

// openai's dtw_cpu: accumulated cost in float32 over an (N+1)x(M+1) grid, each cell taking the
// cheapest of diagonal, up and left with ties resolved by its if/elif/else order (diagonal only
// when strictly cheapest, then up, else left); then the backtrace with trace[0][:] = left and
// trace[:][0] = up. `x` is [n][m] row-major.
DtwPath dtw(const double* x, int n, int m);

}  // namespace wisp

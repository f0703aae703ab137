// gemv and row widening for ggml's block-quantized weights (q8_0, q5_0, q5_1, q4_0, q4_1), written
// once over the vector traits S of kernels_generic.h (which includes this file; same rules).
//
// S provides, besides kernels_generic.h's list: load_quant<MatrixType T, int Slice>(const uint8_t*
// block) = values [Slice*kWidth, (Slice+1)*kWidth) of one 32-value block as f32, bit-equal to
// ggml's reference dequantizer (q*d, or fma(q, d, m) for the types with a minimum).
//
// Decode is memory bound: each block is read from memory once per group of activation rows and
// dequantized in registers, so a q8_0/q5_0/q4_0 matrix costs about half/a third/a quarter of the
// f16 bytes.

// Columns per block for R rows: R*C accumulators, C weight vectors and the per-column scale (and
// minimum) broadcasts must fit the registers.
template <class S, int R>
constexpr int gemv_quant_columns() {
  return R * 4 + 3 * 4 + 2 <= S::kRegisters ? 4 : 2;
}

// One Slice of the current block for all C columns, against R rows of x; then the next slice.
template <class S, MatrixType T, int R, int C, int Slice>
inline void gemv_quant_slices(const float* x, int ldx, const uint8_t* const* blocks, typename S::V (&acc)[R][C]) {
  using V = typename S::V;
  V b[C];
  for (int c = 0; c < C; ++c) b[c] = S::template load_quant<T, Slice>(blocks[c]);
  for (int r = 0; r < R; ++r) {
    const V a = S::load(x + static_cast<size_t>(r) * ldx + Slice * S::kWidth);
    for (int c = 0; c < C; ++c) acc[r][c] = S::fma(a, b[c], acc[r][c]);
  }
  if constexpr ((Slice + 1) * S::kWidth < kMatrixQuantBlock) {
    gemv_quant_slices<S, T, R, C, Slice + 1>(x, ldx, blocks, acc);
  }
}

// One block of one weight row against one activation row, for the single-row path: its slices
// go to part[(Base + slice) % 4] (part[0] in the tail), the order of gemv_block's R == 1 path
// (vector v in part[v % 4], the vectors after the last full group of four in part[0]), so
// quantized and f32 matrices still sum identically. Indexes are compile-time: the accumulators
// stay in registers.
template <class S, MatrixType T, int Base, bool Tail, int Slice = 0>
inline void gemv_quant_row_block(const float* x, const uint8_t* block, typename S::V (&part)[4]) {
  constexpr int u = Tail ? 0 : (Base + Slice) % 4;
  part[u] = S::fma(S::load(x + Slice * S::kWidth), S::template load_quant<T, Slice>(block), part[u]);
  if constexpr ((Slice + 1) * S::kWidth < kMatrixQuantBlock) {
    gemv_quant_row_block<S, T, Base, Tail, Slice + 1>(x, block, part);
  }
}

// One activation row (a decode step) against C weight rows, each read start to end: a purely
// sequential stream, four accumulators to hide the FMA latency.
template <class S, MatrixType T, int C>
void gemv_block_quant_single(const float* x, const WeightMatrix& w, int j, const float* bias, bool accumulate,
                             float* y) {
  using V = typename S::V;
  constexpr size_t kBlockBytes = quant_block_bytes(T);
  constexpr int kVectorsPerBlock = kMatrixQuantBlock / S::kWidth;
  static_assert(kVectorsPerBlock == 1 || kVectorsPerBlock == 2 || kVectorsPerBlock == 4);
  constexpr int kGroup = kVectorsPerBlock >= 4 ? 1 : 4 / kVectorsPerBlock;  // blocks per 4 vectors
  const int n_blocks = w.cols / kMatrixQuantBlock;
  const size_t stride = w.row_bytes;
  const bool prefetch = j + 5 * C <= w.rows;
  for (int c = 0; c < C; ++c) {
    const uint8_t* row = w.row_data(j + c);
    const uint8_t* ahead = row + static_cast<size_t>(4 * C) * stride;
    V part[4] = {S::zero(), S::zero(), S::zero(), S::zero()};
    int blk = 0;
    for (; blk + kGroup <= n_blocks; blk += kGroup) {
      const size_t offset = static_cast<size_t>(blk) * kBlockBytes;
      if (prefetch) {
        for (size_t line = 0; line < kGroup * kBlockBytes; line += 64) {
          S::prefetch(reinterpret_cast<const char*>(ahead + offset + line));
        }
      }
      const float* xb = x + static_cast<size_t>(blk) * kMatrixQuantBlock;
      gemv_quant_row_block<S, T, 0, false>(xb, row + offset, part);
      if constexpr (kGroup >= 2) {
        gemv_quant_row_block<S, T, kVectorsPerBlock, false>(xb + kMatrixQuantBlock, row + offset + kBlockBytes, part);
      }
      if constexpr (kGroup >= 4) {
        gemv_quant_row_block<S, T, 2, false>(xb + 2 * kMatrixQuantBlock, row + offset + 2 * kBlockBytes, part);
        gemv_quant_row_block<S, T, 3, false>(xb + 3 * kMatrixQuantBlock, row + offset + 3 * kBlockBytes, part);
      }
    }
    for (; blk < n_blocks; ++blk) {
      gemv_quant_row_block<S, T, 0, true>(x + static_cast<size_t>(blk) * kMatrixQuantBlock,
                                          row + static_cast<size_t>(blk) * kBlockBytes, part);
    }
    const float sum = S::reduce_add(S::add(S::add(part[0], part[1]), S::add(part[2], part[3])));
    float& out = y[j + c];
    out = (accumulate ? out : 0.0f) + (sum + (bias ? bias[j + c] : 0.0f));
  }
}

// R rows of x against C consecutive quantized weight rows starting at j. The products are summed
// in the same order as the f32 path, so a quantized matrix and its exact f32 dequantization give
// bit-identical results.
template <class S, MatrixType T, int R, int C>
void gemv_block_quant(const float* x, int ldx, const WeightMatrix& w, int j, const float* bias, bool accumulate,
                      float* y, int ldy) {
  if constexpr (R == 1) {
    gemv_block_quant_single<S, T, C>(x, w, j, bias, accumulate, y);
    return;
  }
  using V = typename S::V;
  constexpr size_t kBlockBytes = quant_block_bytes(T);
  const int n_blocks = w.cols / kMatrixQuantBlock;
  const size_t stride = w.row_bytes;
  V acc[R][C];
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < C; ++c) acc[r][c] = S::zero();
  }
  const uint8_t* row0 = w.row_data(j);
  // Software prefetch four column blocks ahead (as the f16 path): one prefetch per cache line,
  // issued by the block that starts in the line's first kBlockBytes bytes.
  const uint8_t* ahead = row0 + static_cast<size_t>(4 * C) * stride;
  const bool prefetch = j + 5 * C <= w.rows;
  const uint8_t* blocks[C];
  for (int c = 0; c < C; ++c) blocks[c] = row0 + static_cast<size_t>(c) * stride;
  for (int blk = 0; blk < n_blocks; ++blk) {
    if (prefetch) {
      for (int c = 0; c < C; ++c) {
        const uint8_t* p = ahead + static_cast<size_t>(c) * stride + static_cast<size_t>(blk) * kBlockBytes;
        if ((reinterpret_cast<uintptr_t>(p) & 63) < kBlockBytes) S::prefetch(reinterpret_cast<const char*>(p));
      }
    }
    gemv_quant_slices<S, T, R, C, 0>(x + static_cast<size_t>(blk) * kMatrixQuantBlock, ldx, blocks, acc);
    for (int c = 0; c < C; ++c) blocks[c] += kBlockBytes;
  }
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < C; ++c) {
      const float sum = S::reduce_add(acc[r][c]);
      float& out = y[static_cast<size_t>(r) * ldy + j + c];
      out = (accumulate ? out : 0.0f) + (sum + (bias ? bias[j + c] : 0.0f));
    }
  }
}

template <class S, MatrixType T, int R>
void gemv_rows_quant(const float* x, int ldx, const WeightMatrix& w, int col_begin, int col_end, const float* bias,
                     bool accumulate, float* y, int ldy) {
  constexpr int C = gemv_quant_columns<S, R>();
  int j = col_begin;
  for (; j + C <= col_end; j += C) gemv_block_quant<S, T, R, C>(x, ldx, w, j, bias, accumulate, y, ldy);
  for (; j < col_end; ++j) gemv_block_quant<S, T, R, 1>(x, ldx, w, j, bias, accumulate, y, ldy);
}

template <class S, MatrixType T, int Slice = 0>
inline void dequantize_block(const uint8_t* block, float* dst) {
  S::store(dst + Slice * S::kWidth, S::template load_quant<T, Slice>(block));
  if constexpr ((Slice + 1) * S::kWidth < kMatrixQuantBlock) dequantize_block<S, T, Slice + 1>(block, dst);
}

// Rows [row_begin, row_end) dequantized into dst: consecutive rows are one run of blocks.
template <class S, MatrixType T>
void rows_to_f32_quant(const WeightMatrix& w, int row_begin, int row_end, float* dst) {
  const uint8_t* block = w.row_data(row_begin);
  const size_t n_blocks = static_cast<size_t>(row_end - row_begin) * static_cast<size_t>(w.cols / kMatrixQuantBlock);
  for (size_t b = 0; b < n_blocks; ++b, block += quant_block_bytes(T), dst += kMatrixQuantBlock) {
    dequantize_block<S, T>(block, dst);
  }
}

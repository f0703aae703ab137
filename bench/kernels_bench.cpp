// Microbenchmarks of the kernels at Whisper's shapes (tiny/base widths):
//   build-x/bench/kernels_bench --benchmark_filter=Gemv
// Every benchmark takes the instruction set (0 scalar, 1 avx2, 2 avx512) as its first argument
// and WISP_BENCH_THREADS (default 1) compute threads.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "common/huge_pages.h"
#include "kernels/attention.h"
#include "kernels/convert.h"
#include "kernels/cpu_features.h"
#include "kernels/kernel_table.h"
#include "kernels/ops.h"
#include "kernels/panel_gemm.h"
#include "kernels/q5_0r.h"
#include "kernels/q8_0r.h"
#include "kernels/quant_dot_internal.h"
#include "model/ggml_quant.h"

namespace {

using namespace wisp;

std::vector<float> random_floats(size_t n, float scale = 1.0f) {
  std::mt19937 rng(42);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

std::vector<uint16_t> to_f16(const std::vector<float>& v) {
  std::vector<uint16_t> h(v.size());
  convert_f32_to_f16(v.data(), h.data(), v.size());
  return h;
}

bool setup(benchmark::State& state) {
  const Isa isa = static_cast<Isa>(state.range(0));
  if (!cpu_supports(isa)) {
    state.SkipWithError("instruction set not supported");
    return false;
  }
  force_isa(isa);
  const char* threads = std::getenv("WISP_BENCH_THREADS");
  set_compute_threads(threads ? std::atoi(threads) : 1);
  return true;
}

// args: isa, rows, out, in, f16
void BM_Linear(benchmark::State& state) {
  if (!setup(state)) return;
  const int rows = static_cast<int>(state.range(1)), out = static_cast<int>(state.range(2));
  const int in = static_cast<int>(state.range(3));
  const bool half = state.range(4) != 0;
  const std::vector<float> w32 = random_floats(static_cast<size_t>(out) * in, 0.05f);
  const std::vector<uint16_t> w16 = to_f16(w32);
  const WeightMatrix w = half ? WeightMatrix(w16.data(), MatrixType::F16, out, in)
                              : WeightMatrix(w32.data(), MatrixType::F32, out, in);
  const std::vector<float> x = random_floats(static_cast<size_t>(rows) * in);
  std::vector<float> y(static_cast<size_t>(rows) * out);
  for (auto _ : state) {
    linear(x.data(), rows, in, w, nullptr, out, y.data());
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * out * in * (half ? 2 : 4));
}
BENCHMARK(BM_Linear)
    ->ArgsProduct({{0, 1, 2}, {1, 5}, {51865}, {384}, {0, 1}})
    ->ArgsProduct({{1, 2}, {1, 5}, {1536}, {384}, {0, 1}})
    ->ArgsProduct({{2}, {32, 1500}, {1536}, {384}, {0, 1}})
    ->Unit(benchmark::kMicrosecond);

// Random weights [out][in] of a benchmark type id (8 q8_0, 6 q5_0, 7 q5_1, 2 q4_0, 3 q4_1; 106
// and 108: q5_0 and q8_0 regrouped as q5_0r and q8_0r) at `offset` bytes into `bytes`.
WeightMatrix quantized_weights(int type_id, int out, int in, std::vector<uint8_t>& bytes, size_t offset) {
  const bool regrouped = type_id > 100;
  const auto ggml = static_cast<GgmlType>(type_id % 100);
  const MatrixType type = regrouped                ? (ggml == GgmlType::Q5_0 ? MatrixType::Q5_0R : MatrixType::Q8_0R)
                          : ggml == GgmlType::Q8_0 ? MatrixType::Q8_0
                          : ggml == GgmlType::Q5_0 ? MatrixType::Q5_0
                          : ggml == GgmlType::Q5_1 ? MatrixType::Q5_1
                          : ggml == GgmlType::Q4_0 ? MatrixType::Q4_0
                                                   : MatrixType::Q4_1;
  const std::vector<float> w32 = random_floats(static_cast<size_t>(out) * in, 0.05f);
  const size_t row_bytes = ggml_row_bytes(ggml, in);
  bytes.resize(offset + row_bytes * static_cast<size_t>(out));
  ggml_encode(ggml, w32.data(), bytes.data() + offset, static_cast<int64_t>(w32.size()));
  if (regrouped) {
    const std::vector<uint8_t> stored(bytes.begin() + static_cast<std::ptrdiff_t>(offset), bytes.end());
    const auto regroup_row = ggml == GgmlType::Q5_0 ? q5_0r_regroup_row : q8_0r_regroup_row;
    for (int r = 0; r < out; ++r) regroup_row(stored.data() + row_bytes * r, in / 32, bytes.data() + offset + row_bytes * r);
  }
  return WeightMatrix(bytes.data() + offset, type, out, in);
}

// Block-quantized weights at decode: the int8 kernels against the exact f32 path.
// args: path (0 int8 scalar, 1 int8 avx2, 2 int8 avx512-vnni, 3 exact f32 on the active ISA,
// 4 int8 avx512-vnni-gfni: 512-bit q5_0r rows),
// ggml type id (8 q8_0, 6 q5_0, 7 q5_1, 2 q4_0, 3 q4_1; 106: q5_0 regrouped as q5_0r, what
// decode steps read on AVX2 and AVX-512 CPUs; 108: q8_0 regrouped as q8_0r, what they read where
// path 4 runs), rows, out, in. Bytes = weight bytes.
void BM_LinearQuant(benchmark::State& state) {
  const char* threads = std::getenv("WISP_BENCH_THREADS");
  set_compute_threads(threads ? std::atoi(threads) : 1);
  const int path = static_cast<int>(state.range(0));
  const int rows = static_cast<int>(state.range(2)), out = static_cast<int>(state.range(3));
  const int in = static_cast<int>(state.range(4));
  const Int8Kernel kernel = path == 4 ? Int8Kernel::Avx512 : static_cast<Int8Kernel>(std::min(path, 2));
  if (path != 3 && !cpu_supports_int8_kernel(kernel)) {
    state.SkipWithError("instruction set not supported");
    return;
  }
  std::vector<uint8_t> bytes;
  const WeightMatrix w = quantized_weights(static_cast<int>(state.range(1)), out, in, bytes, 1);  // odd, as in files
  const std::vector<float> x = random_floats(static_cast<size_t>(rows) * in);
  std::vector<float> y(static_cast<size_t>(rows) * out);
  for (auto _ : state) {
    if (path == 3) {
      linear(x.data(), rows, in, w, nullptr, out, y.data());
    } else {
      linear_quant_int8_with(kernel, x.data(), rows, in, w, nullptr, out, y.data(), Epilogue::Store);
    }
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(w.bytes()));
}
BENCHMARK(BM_LinearQuant)
    ->ArgsProduct({{0, 1, 3}, {8, 6, 106, 7, 2, 3}, {1, 5}, {51865}, {512}})
    ->ArgsProduct({{1, 2, 3}, {8, 6}, {1}, {2048}, {512}})
    ->ArgsProduct({{1, 2, 3}, {8, 6}, {1}, {512}, {2048}})
    ->ArgsProduct({{1, 2, 4, 3}, {106, 108}, {1, 2, 5}, {2048}, {512}})
    ->ArgsProduct({{1, 2, 4, 3}, {106, 108}, {1}, {512}, {2048}})
    ->ArgsProduct({{1}, {8}, {16}, {2048}, {512}})
    ->Unit(benchmark::kMicrosecond);

// A decode step's weight stream from memory: one activation row through base-shaped matrices
// (6 layers of 6 d x d, d x 4d and 4d x d, then the 51865 x d token embedding: 97 MB in f16,
// well past the caches), in the order a step reads them: each a separate std::vector (4 KB
// pages), or all in one block on huge pages (common/huge_pages.h), where Model::load places
// them. Bytes/s against BM_ReadBandwidth of the same run. args: isa, d, huge pages (0/1), type
// (0: f16, else a quantized_weights type id; those run the int8 kernel, as decode steps do).
void BM_DecodeWeightStream(benchmark::State& state) {
  if (!setup(state)) return;
  const int d = static_cast<int>(state.range(1));
  const bool huge = state.range(2) != 0;
  const int type_id = static_cast<int>(state.range(3));
  struct Matrix {
    std::vector<uint8_t> data;
    WeightMatrix w;
  };
  std::vector<Matrix> matrices;
  auto add = [&](int out, int in) {
    Matrix m;
    if (type_id == 0) {
      const std::vector<uint16_t> half = to_f16(random_floats(static_cast<size_t>(out) * in, 0.05f));
      m.data.resize(half.size() * 2);
      std::memcpy(m.data.data(), half.data(), m.data.size());
      m.w = WeightMatrix(m.data.data(), MatrixType::F16, out, in);
    } else {
      m.w = quantized_weights(type_id, out, in, m.data, 0);
    }
    matrices.push_back(std::move(m));
  };
  for (int layer = 0; layer < 6; ++layer) {
    for (int i = 0; i < 6; ++i) add(d, d);
    add(4 * d, d);
    add(d, 4 * d);
  }
  add(51865, d);
  int64_t bytes = 0;
  for (const Matrix& m : matrices) bytes += static_cast<int64_t>(m.w.bytes());
  HugeBuffer block(huge ? static_cast<size_t>(bytes) : 0);
  uint8_t* next = block.data();
  for (Matrix& m : matrices) {
    if (!huge) continue;
    std::memcpy(next, m.data.data(), m.w.bytes());
    m.w = WeightMatrix(next, m.w.type, m.w.rows, m.w.cols);
    m.w.on_huge_pages = true;  // as place_decode_matrices marks them
    next += m.w.bytes();
    std::vector<uint8_t>().swap(m.data);
  }
  const std::vector<float> x = random_floats(static_cast<size_t>(4) * d);
  std::vector<float> y(51865);
  for (auto _ : state) {
    for (const Matrix& m : matrices) {
      linear(x.data(), 1, m.w.cols, m.w, nullptr, m.w.rows, y.data(), Epilogue::Store, Precision::Reduced);
    }
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(state.iterations() * bytes);
}
BENCHMARK(BM_DecodeWeightStream)
    ->ArgsProduct({{1, 2}, {512}, {0, 1}, {0}})
    ->ArgsProduct({{2}, {512}, {1}, {8, 6, 106, 108}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// The baseline for BM_DecodeWeightStream: the compute threads summing a 256 MiB buffer, as
// `wisp bench` probes the read bandwidth (which uses huge pages). args: isa (unused but for the
// shared setup), huge pages (0/1).
void BM_ReadBandwidth(benchmark::State& state) {
  if (!setup(state)) return;
  const bool huge = state.range(1) != 0;
  const size_t words = (size_t{256} << 20) / sizeof(uint64_t);
  const std::vector<uint64_t> small_pages(huge ? 0 : words, 1);
  const HugeVector<uint64_t> huge_pages(huge ? words : 0, 1);
  const uint64_t* buffer = huge ? huge_pages.data() : small_pages.data();
  for (auto _ : state) benchmark::DoNotOptimize(parallel_sum_words(buffer, words));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(words * sizeof(uint64_t)));
}
BENCHMARK(BM_ReadBandwidth)->ArgsProduct({{1}, {0, 1}})->UseRealTime()->Unit(benchmark::kMillisecond);

// The library alternative for f32 decode steps: OpenBLAS sgemv (rows = 1) / sgemm, one thread.
// args: rows, out, in
void BM_OpenBlasLinear(benchmark::State& state) {
  set_compute_threads(1);  // also makes OpenBLAS single-threaded
  const int rows = static_cast<int>(state.range(0)), out = static_cast<int>(state.range(1));
  const int in = static_cast<int>(state.range(2));
  const std::vector<float> w = random_floats(static_cast<size_t>(out) * in, 0.05f);
  const std::vector<float> x = random_floats(static_cast<size_t>(rows) * in);
  std::vector<float> y(static_cast<size_t>(rows) * out);
  for (auto _ : state) {
    if (rows == 1) {
      cblas_sgemv(CblasRowMajor, CblasNoTrans, out, in, 1.0f, w.data(), in, x.data(), 1, 0.0f, y.data(), 1);
    } else {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, out, in, 1.0f, x.data(), in, w.data(), in, 0.0f,
                  y.data(), out);
    }
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * out * in * 4);
}
BENCHMARK(BM_OpenBlasLinear)->ArgsProduct({{1, 5, 32}, {51865, 1536}, {384}})->Unit(benchmark::kMicrosecond);

// The panel product alone, one thread: FLOP/s against BM_FmaPeak of the same run.
// args: kernel (0 scalar, 1 avx2), m, n, k, f16 panels
void BM_PanelGemm(benchmark::State& state) {
  const auto kernel = static_cast<PanelKernel>(state.range(0));
  if (kernel == PanelKernel::Avx2 && !cpu_supports(Isa::Avx2)) {
    state.SkipWithError("instruction set not supported");
    return;
  }
  const int m = static_cast<int>(state.range(1)), n = static_cast<int>(state.range(2));
  const int k = static_cast<int>(state.range(3));
  const bool half = state.range(4) != 0;
  const std::vector<float> w32 = random_floats(static_cast<size_t>(n) * k, 0.05f);
  const std::vector<uint16_t> w16 = to_f16(w32);
  const PanelMatrix w(half ? WeightMatrix(w16.data(), MatrixType::F16, n, k)
                           : WeightMatrix(w32.data(), MatrixType::F32, n, k));
  const std::vector<float> x = random_floats(static_cast<size_t>(m) * k);
  std::vector<float> y(static_cast<size_t>(m) * n);
  for (auto _ : state) {
    panel_gemm(kernel, m, n, k, x.data(), k, w.type(), w.data(), y.data(), n, false);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["FLOPS"] = benchmark::Counter(2.0 * m * n * k * static_cast<double>(state.iterations()),
                                               benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PanelGemm)
    ->ArgsProduct({{1}, {1500}, {768, 3072}, {768}, {0, 1}})
    ->ArgsProduct({{1}, {1500}, {768}, {3072}, {1}})
    ->ArgsProduct({{1}, {6, 96, 1500}, {16, 768}, {256}, {1}})
    ->Unit(benchmark::kMillisecond);

#if defined(__x86_64__)
// One core's fused multiply-add ceilings, the baselines for BM_PanelGemm's FLOP/s measured in
// the same run, in assembly so the instruction stream is exactly the one named (with intrinsics
// GCC spills some of the 12 accumulators). args: 0 FMAs only (12 independent chains); 1 the
// 6 x 16 panel tile's step (2 vector loads, 6 broadcast loads from L1, 12 FMAs); 2 that step
// without its broadcasts.
void BM_FmaPeak(benchmark::State& state) {
  if (!cpu_supports(Isa::Avx2)) {
    state.SkipWithError("instruction set not supported");
    return;
  }
  const int mix = static_cast<int>(state.range(0));
  constexpr long kSteps = 1 << 20;
  alignas(64) float l1[32] = {1.0f, 0.5f, 0.25f, 0.125f, 2.0f, 4.0f};
  for (auto _ : state) {
    long steps = kSteps;
    const float* data = l1;
    if (mix == 0) {
      asm volatile(
          "vxorps %%ymm0, %%ymm0, %%ymm0\n\t"
          "vmovaps %%ymm0, %%ymm12\n\t"
          "vmovaps %%ymm0, %%ymm13\n\t"
          "1:\n\t"
          "vfmadd231ps %%ymm12, %%ymm13, %%ymm0\n\t"
          "vfmadd231ps %%ymm12, %%ymm13, %%ymm1\n\t"
          "vfmadd231ps %%ymm12, %%ymm13, %%ymm2\n\t"
          "vfmadd231ps %%ymm12, %%ymm13, %%ymm3\n\t"
          "vfmadd231ps %%ymm12, %%ymm13, %%ymm4\n\t"
          "vfmadd231ps %%ymm12, %%ymm13, %%ymm5\n\t"
          "vfmadd231ps %%ymm12, %%ymm13, %%ymm6\n\t"
          "vfmadd231ps %%ymm12, %%ymm13, %%ymm7\n\t"
          "vfmadd231ps %%ymm12, %%ymm13, %%ymm8\n\t"
          "vfmadd231ps %%ymm12, %%ymm13, %%ymm9\n\t"
          "vfmadd231ps %%ymm12, %%ymm13, %%ymm10\n\t"
          "vfmadd231ps %%ymm12, %%ymm13, %%ymm11\n\t"
          "dec %0\n\t"
          "jnz 1b\n\t"
          "vzeroupper\n\t"
          : "+r"(steps)
          : "r"(data)
          : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12",
            "xmm13", "xmm14", "xmm15", "cc");
    } else {
      const bool broadcasts = mix == 1;
      asm volatile(
          "vbroadcastss 4(%1), %%ymm15\n\t"
          "1:\n\t"
          "vmovaps 32(%1), %%ymm12\n\t"
          "vmovaps 64(%1), %%ymm13\n\t"
          "test %2, %2\n\t"
          "jz 2f\n\t"
          "vbroadcastss 0(%1), %%ymm14\n\t"
          "vfmadd231ps %%ymm12, %%ymm14, %%ymm0\n\t"
          "vfmadd231ps %%ymm13, %%ymm14, %%ymm1\n\t"
          "vbroadcastss 4(%1), %%ymm14\n\t"
          "vfmadd231ps %%ymm12, %%ymm14, %%ymm2\n\t"
          "vfmadd231ps %%ymm13, %%ymm14, %%ymm3\n\t"
          "vbroadcastss 8(%1), %%ymm14\n\t"
          "vfmadd231ps %%ymm12, %%ymm14, %%ymm4\n\t"
          "vfmadd231ps %%ymm13, %%ymm14, %%ymm5\n\t"
          "vbroadcastss 12(%1), %%ymm14\n\t"
          "vfmadd231ps %%ymm12, %%ymm14, %%ymm6\n\t"
          "vfmadd231ps %%ymm13, %%ymm14, %%ymm7\n\t"
          "vbroadcastss 16(%1), %%ymm14\n\t"
          "vfmadd231ps %%ymm12, %%ymm14, %%ymm8\n\t"
          "vfmadd231ps %%ymm13, %%ymm14, %%ymm9\n\t"
          "vbroadcastss 20(%1), %%ymm14\n\t"
          "vfmadd231ps %%ymm12, %%ymm14, %%ymm10\n\t"
          "vfmadd231ps %%ymm13, %%ymm14, %%ymm11\n\t"
          "jmp 3f\n\t"
          "2:\n\t"
          "vfmadd231ps %%ymm12, %%ymm15, %%ymm0\n\t"
          "vfmadd231ps %%ymm13, %%ymm15, %%ymm1\n\t"
          "vfmadd231ps %%ymm12, %%ymm15, %%ymm2\n\t"
          "vfmadd231ps %%ymm13, %%ymm15, %%ymm3\n\t"
          "vfmadd231ps %%ymm12, %%ymm15, %%ymm4\n\t"
          "vfmadd231ps %%ymm13, %%ymm15, %%ymm5\n\t"
          "vfmadd231ps %%ymm12, %%ymm15, %%ymm6\n\t"
          "vfmadd231ps %%ymm13, %%ymm15, %%ymm7\n\t"
          "vfmadd231ps %%ymm12, %%ymm15, %%ymm8\n\t"
          "vfmadd231ps %%ymm13, %%ymm15, %%ymm9\n\t"
          "vfmadd231ps %%ymm12, %%ymm15, %%ymm10\n\t"
          "vfmadd231ps %%ymm13, %%ymm15, %%ymm11\n\t"
          "3:\n\t"
          "dec %0\n\t"
          "jnz 1b\n\t"
          "vzeroupper\n\t"
          : "+r"(steps)
          : "r"(data), "r"(static_cast<long>(broadcasts))
          : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12",
            "xmm13", "xmm14", "xmm15", "cc", "memory");
    }
  }
  state.counters["FLOPS"] =
      benchmark::Counter(16.0 * 12 * kSteps * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_FmaPeak)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);
#endif

// args: isa, n_q, n_kv, n_head
void BM_Attention(benchmark::State& state) {
  if (!setup(state)) return;
  const int n_q = static_cast<int>(state.range(1)), n_kv = static_cast<int>(state.range(2));
  const int n_head = static_cast<int>(state.range(3)), d = n_head * 64;
  const std::vector<float> q = random_floats(static_cast<size_t>(n_q) * d);
  const std::vector<float> kv = random_floats(static_cast<size_t>(n_kv) * d);
  std::vector<float> out(static_cast<size_t>(n_q) * d);
  for (auto _ : state) {
    attention(q.data(), d, kv.data(), d, kv.data(), d, out.data(), d, n_q, n_kv, n_head, 64, false, 0);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_Attention)
    ->ArgsProduct({{1, 2}, {1500}, {1500}, {6}})
    ->ArgsProduct({{0, 1, 2}, {1, 5}, {1500}, {6}})
    ->Unit(benchmark::kMicrosecond);

// args: isa, n
void BM_Gelu(benchmark::State& state) {
  if (!setup(state)) return;
  std::vector<float> x = random_floats(static_cast<size_t>(state.range(1)));
  const std::vector<float> x0 = x;
  for (auto _ : state) {
    kernels().bias_gelu(x.data(), static_cast<int>(x.size()), nullptr);
    benchmark::DoNotOptimize(x.data());
    state.PauseTiming();
    x = x0;
    state.ResumeTiming();
  }
}
BENCHMARK(BM_Gelu)->ArgsProduct({{0, 1, 2}, {1536 * 64}})->Unit(benchmark::kMicrosecond);

void BM_Softmax(benchmark::State& state) {
  if (!setup(state)) return;
  std::vector<float> x = random_floats(static_cast<size_t>(state.range(1)));
  for (auto _ : state) {
    kernels().softmax(x.data(), static_cast<int>(x.size()), static_cast<int>(x.size()));
    benchmark::DoNotOptimize(x.data());
  }
}
BENCHMARK(BM_Softmax)->ArgsProduct({{0, 1, 2}, {1500}});

void BM_LayerNorm(benchmark::State& state) {
  if (!setup(state)) return;
  const int dim = static_cast<int>(state.range(1));
  const std::vector<float> x = random_floats(dim), gamma = random_floats(dim), beta = random_floats(dim);
  std::vector<float> y(dim);
  for (auto _ : state) {
    kernels().layer_norm(x.data(), dim, gamma.data(), beta.data(), 1e-5f, y.data());
    benchmark::DoNotOptimize(y.data());
  }
}
BENCHMARK(BM_LayerNorm)->ArgsProduct({{0, 1, 2}, {384, 512}});

}  // namespace

BENCHMARK_MAIN();

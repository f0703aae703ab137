// Microbenchmarks of the kernels at Whisper's shapes (tiny/base widths):
//   build-x/bench/kernels_bench --benchmark_filter=Gemv
// Every benchmark takes the instruction set (0 scalar, 1 avx2, 2 avx512) as its first argument
// and WISP_BENCH_THREADS (default 1) compute threads.
#include <benchmark/benchmark.h>
#include <cblas.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <vector>

#include "kernels/attention.h"
#include "kernels/convert.h"
#include "kernels/cpu_features.h"
#include "kernels/kernel_table.h"
#include "kernels/ops.h"
#include "kernels/panel_gemm.h"
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

// Block-quantized weights at decode: the int8 kernels against the exact f32 path.
// args: path (0 int8 scalar, 1 int8 avx2, 3 exact f32 on the active ISA),
// ggml type id (8 q8_0, 6 q5_0, 7 q5_1, 2 q4_0, 3 q4_1), rows, out, in. Bytes = weight bytes.
void BM_LinearQuant(benchmark::State& state) {
  const char* threads = std::getenv("WISP_BENCH_THREADS");
  set_compute_threads(threads ? std::atoi(threads) : 1);
  const int path = static_cast<int>(state.range(0));
  const auto ggml = static_cast<GgmlType>(state.range(1));
  const int rows = static_cast<int>(state.range(2)), out = static_cast<int>(state.range(3));
  const int in = static_cast<int>(state.range(4));
  const Int8Kernel kernel = static_cast<Int8Kernel>(std::min(path, 1));
  if (path < 3 && !cpu_supports_int8_kernel(kernel)) {
    state.SkipWithError("instruction set not supported");
    return;
  }
  const MatrixType type = ggml == GgmlType::Q8_0   ? MatrixType::Q8_0
                          : ggml == GgmlType::Q5_0 ? MatrixType::Q5_0
                          : ggml == GgmlType::Q5_1 ? MatrixType::Q5_1
                          : ggml == GgmlType::Q4_0 ? MatrixType::Q4_0
                                                   : MatrixType::Q4_1;
  const std::vector<float> w32 = random_floats(static_cast<size_t>(out) * in, 0.05f);
  std::vector<uint8_t> bytes(1 + ggml_row_bytes(ggml, in) * static_cast<size_t>(out));
  ggml_encode(ggml, w32.data(), bytes.data() + 1, static_cast<int64_t>(w32.size()));  // odd offset, as in files
  const WeightMatrix w(bytes.data() + 1, type, out, in);
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
    ->ArgsProduct({{0, 1, 3}, {8, 6, 7, 2, 3}, {1, 5}, {51865}, {512}})
    ->ArgsProduct({{1, 3}, {8, 6}, {1}, {2048}, {512}})
    ->ArgsProduct({{1, 3}, {8, 6}, {1}, {512}, {2048}})
    ->ArgsProduct({{1}, {8}, {16}, {2048}, {512}})
    ->Unit(benchmark::kMicrosecond);

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
// One core's fused multiply-add peak (12 independent chains of 8-float FMAs): the baseline
// for BM_PanelGemm's FLOP/s on this machine, measured in the same run.
__attribute__((target("avx2,fma"))) void BM_FmaPeak(benchmark::State& state) {
  if (!cpu_supports(Isa::Avx2)) {
    state.SkipWithError("instruction set not supported");
    return;
  }
  constexpr int kChains = 12;
  constexpr long kSteps = 1 << 20;
  for (auto _ : state) {
    __m256 acc[kChains];
    for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_ps(1.0f + i * 1e-7f);
    const __m256 b = _mm256_set1_ps(0.9999999f), c = _mm256_set1_ps(1e-7f);
    for (long s = 0; s < kSteps; ++s) {
#pragma GCC unroll 12
      for (int i = 0; i < kChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], b, c);
    }
    for (int i = 0; i < kChains; ++i) benchmark::DoNotOptimize(acc[i]);
  }
  state.counters["FLOPS"] =
      benchmark::Counter(16.0 * kChains * kSteps * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_FmaPeak)->Unit(benchmark::kMillisecond);
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

#include "kernels/bf16_gemm.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "kernels/kernel_table.h"
#include "kernels/thread_pool.h"
#include "wisp/error.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace wisp {

namespace {

using dnnl::memory;
using Tag = memory::format_tag;
constexpr auto kBf16 = memory::data_type::bf16;
constexpr auto kF32 = memory::data_type::f32;

// Rows per task of linear_bf16: large enough for brgemm's blocking, small enough that the
// encoder's 1500 rows balance over the threads.
constexpr int kRowSlice = 128;
// Queries per attention task: the [64][1500] f32 score tile and its bf16 copy stay in L2.
constexpr int kQueryBlock = 64;

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// oneDNN runs on OpenMP; inside a pool task it must use only the calling thread.
class SingleThreadedOmp {
 public:
  SingleThreadedOmp() : saved_(omp_get_max_threads()) {
    if (saved_ != 1) omp_set_num_threads(1);
  }
  ~SingleThreadedOmp() {
    if (saved_ != 1) omp_set_num_threads(saved_);
  }

 private:
  int saved_;
};

// Per-thread stream and scratchpad (primitives use user-managed scratchpads, so concurrent
// executions never share one).
dnnl::stream& thread_stream() {
  thread_local dnnl::stream stream(cpu_engine());
  return stream;
}

void* thread_scratchpad(size_t bytes) {
  thread_local std::vector<unsigned char> buffer;
  if (buffer.size() < bytes) buffer.resize(bytes);
  return buffer.data();
}

uint16_t* thread_bf16_buffer(size_t n) {
  thread_local std::vector<uint16_t> buffer;
  if (buffer.size() < n) buffer.resize(n);
  return buffer.data();
}

float* thread_f32_buffer(size_t n) {
  thread_local std::vector<float> buffer;
  if (buffer.size() < n) buffer.resize(n);
  return buffer.data();
}

struct Primitive {
  dnnl::matmul matmul;
  memory::desc src, weights, bias, dst;
  size_t scratchpad_bytes = 0;
};

dnnl::primitive_attr make_attr(Epilogue epilogue) {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  dnnl::post_ops ops;
  if (epilogue == Epilogue::Gelu) ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_gelu_erf, 0.0f, 0.0f);
  if (epilogue == Epilogue::Accumulate) ops.append_sum(1.0f);
  attr.set_post_ops(ops);
  return attr;
}

// The blocked weights layout brgemm picks for an [m][k] x [k][n] product (made for one row count,
// then shared by the primitives of every row count).
memory::desc packed_weights_desc(memory::dim m, memory::dim k, memory::dim n) {
  dnnl::matmul::primitive_desc pd(
      dnnl::matmul::desc(memory::desc({m, k}, kBf16, Tag::ab), memory::desc({k, n}, kBf16, Tag::any),
                         memory::desc({m, n}, kF32, Tag::ab)),
      cpu_engine());
  return pd.weights_desc();
}

Primitive make_primitive(const memory::desc& src, const memory::desc& weights, const memory::desc& bias,
                         const memory::desc& dst, const dnnl::primitive_attr& attr) {
  try {
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, weights, bias, dst), attr, cpu_engine());
    Primitive p{dnnl::matmul(pd), pd.src_desc(), pd.weights_desc(), bias, pd.dst_desc(),
                pd.scratchpad_desc().get_size()};
    return p;
  } catch (const dnnl::error& e) {
    throw Error(std::string("bf16 matrix product unavailable (oneDNN: ") + e.what() + ")");
  }
}

void run(const Primitive& p, const void* src, const void* weights, const float* bias, void* dst) {
  const dnnl::engine& engine = cpu_engine();
  std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC, memory(p.src, engine, const_cast<void*>(src))},
      {DNNL_ARG_WEIGHTS, memory(p.weights, engine, const_cast<void*>(weights))},
      {DNNL_ARG_DST, memory(p.dst, engine, dst)},
      {DNNL_ARG_SCRATCHPAD, memory(memory::desc({static_cast<memory::dim>(p.scratchpad_bytes)}, memory::data_type::u8,
                                                Tag::a),
                                   engine, thread_scratchpad(p.scratchpad_bytes))}};
  if (bias != nullptr) args.emplace(DNNL_ARG_BIAS, memory(p.bias, engine, const_cast<float*>(bias)));
  p.matmul.execute(thread_stream(), args);
}

}  // namespace

struct Bf16Matrix::Impl {
  memory::desc packed_desc;
  std::vector<unsigned char> packed;  // oneDNN's blocked bf16 layout of W^T
  // Primitives per (rows, epilogue, has bias), made on the calling thread before tasks run.
  mutable std::mutex mutex;
  mutable std::map<std::tuple<int, int, bool>, Primitive> primitives;

  const Primitive& primitive(int rows, int in, int out, Epilogue epilogue, bool has_bias) const {
    std::lock_guard<std::mutex> lock(mutex);
    const auto key = std::make_tuple(rows, static_cast<int>(epilogue), has_bias);
    auto it = primitives.find(key);
    if (it == primitives.end()) {
      const memory::desc bias = has_bias ? memory::desc({1, out}, kF32, Tag::ab) : memory::desc();
      it = primitives
               .emplace(key, make_primitive(memory::desc({rows, in}, kBf16, Tag::ab), packed_desc, bias,
                                            memory::desc({rows, out}, kF32, Tag::ab), make_attr(epilogue)))
               .first;
    }
    return it->second;
  }
};

bool cpu_has_bf16() {
#if defined(__x86_64__)
  static const bool has = __builtin_cpu_supports("avx512bf16");
  return has;
#else
  return false;
#endif
}

namespace {

void f32_to_bf16_scalar(const float* src, uint16_t* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, &src[i], sizeof bits);
    if ((bits & 0x7fffffffu) > 0x7f800000u) {
      dst[i] = static_cast<uint16_t>((bits >> 16) | 0x40);  // NaN stays a (quiet) NaN
    } else {
      dst[i] = static_cast<uint16_t>((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
    }
  }
}

#if defined(__x86_64__)
__attribute__((target("avx512f,avx512bf16,avx512vl"))) void f32_to_bf16_avx512(const float* src, uint16_t* dst,
                                                                                  size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256bh h = _mm512_cvtneps_pbh(_mm512_loadu_ps(src + i));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), reinterpret_cast<const __m256i&>(h));
  }
  f32_to_bf16_scalar(src + i, dst + i, n - i);
}
#endif

}  // namespace

void f32_to_bf16(const float* src, uint16_t* dst, size_t n) {
#if defined(__x86_64__)
  if (cpu_has_bf16()) {
    f32_to_bf16_avx512(src, dst, n);
    return;
  }
#endif
  f32_to_bf16_scalar(src, dst, n);
}

Bf16Matrix::Bf16Matrix(const WeightMatrix& w) : out_(w.rows), in_(w.cols), impl_(std::make_unique<Impl>()) {
  // W (any stored type) rounded to bf16 row by row, then reordered into the blocked layout
  // brgemm picks for this shape. Single-threaded: callers pack several matrices in parallel.
  SingleThreadedOmp single;
  try {
    impl_->packed_desc = packed_weights_desc(kRowSlice, in_, out_);
    impl_->packed.resize(impl_->packed_desc.get_size());
    std::vector<uint16_t> plain(static_cast<size_t>(out_) * in_);  // [out][in] = W^T as {in, out} "ba"
    constexpr int kRowsPerChunk = 64;
    std::vector<float> rows(static_cast<size_t>(kRowsPerChunk) * in_);
    for (int r0 = 0; r0 < out_; r0 += kRowsPerChunk) {
      const int r1 = std::min(out_, r0 + kRowsPerChunk);
      kernels().rows_to_f32(w, r0, r1, rows.data());
      f32_to_bf16(rows.data(), plain.data() + static_cast<size_t>(r0) * in_, static_cast<size_t>(r1 - r0) * in_);
    }
    memory source(memory::desc({in_, out_}, kBf16, Tag::ba), cpu_engine(), plain.data());
    memory packed(impl_->packed_desc, cpu_engine(), impl_->packed.data());
    dnnl::reorder(source, packed).execute(thread_stream(), source, packed);
    thread_stream().wait();
  } catch (const dnnl::error& e) {
    throw Error(std::string("cannot pack weights for bf16 compute (oneDNN: ") + e.what() + ")");
  }
}

Bf16Matrix::~Bf16Matrix() = default;
Bf16Matrix::Bf16Matrix(Bf16Matrix&&) noexcept = default;
Bf16Matrix& Bf16Matrix::operator=(Bf16Matrix&&) noexcept = default;

size_t Bf16Matrix::bytes() const { return impl_->packed.size(); }

void linear_bf16(const float* x, int rows, const Bf16Matrix& w, const float* bias, float* y, Epilogue epilogue) {
  const int in = w.in(), out = w.out();
  const int slice = std::min(rows, kRowSlice);
  const int n_tasks = (rows + slice - 1) / slice;
  const int tail = rows - (n_tasks - 1) * slice;
  const Primitive& full = w.impl().primitive(slice, in, out, epilogue, bias != nullptr);
  const Primitive& last = w.impl().primitive(tail, in, out, epilogue, bias != nullptr);
  const void* packed = w.impl().packed.data();
  parallel_for(n_tasks, [&](int task) {
    SingleThreadedOmp single;
    const int r0 = task * slice;
    const int m = task == n_tasks - 1 ? tail : slice;
    uint16_t* x16 = thread_bf16_buffer(static_cast<size_t>(m) * in);
    f32_to_bf16(x + static_cast<size_t>(r0) * in, x16, static_cast<size_t>(m) * in);
    run(m == slice ? full : last, x16, packed, bias, y + static_cast<size_t>(r0) * out);
  });
}

namespace {

// The two products of one attention head for a block of `m` queries: S = Q K^T (Q pre-scaled)
// and O = P V, with K^T and V packed per head. Operands are dense: brgemm rejects strided
// source/destination views and output scales, and oneDNN would fall back to its reference code.
struct AttentionPrimitives {
  Primitive scores, values;
};

const AttentionPrimitives& attention_primitives(int m, int n_kv, int d_head) {
  static std::mutex mutex;
  static std::map<std::tuple<int, int, int>, AttentionPrimitives> cache;
  std::lock_guard<std::mutex> lock(mutex);
  const auto key = std::make_tuple(m, n_kv, d_head);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  const dnnl::primitive_attr plain = make_attr(Epilogue::Store);
  // The packed layouts come from the full-block shape so that every block size shares them.
  auto packed_layout = [](memory::dim k, memory::dim n) { return packed_weights_desc(kQueryBlock, k, n); };
  AttentionPrimitives p;
  try {
    p.scores = make_primitive(memory::desc({m, d_head}, kBf16, Tag::ab), packed_layout(d_head, n_kv), memory::desc(),
                              memory::desc({m, n_kv}, kF32, Tag::ab), plain);
    p.values = make_primitive(memory::desc({m, n_kv}, kBf16, Tag::ab), packed_layout(n_kv, d_head), memory::desc(),
                              memory::desc({m, d_head}, kF32, Tag::ab), plain);
  } catch (const dnnl::error& e) {
    throw Error(std::string("bf16 attention unavailable (oneDNN: ") + e.what() + ")");
  }
  return cache.emplace(key, std::move(p)).first->second;
}

constexpr int kMaxHeadDim = 256;  // Whisper's heads have 64

// Rows [r0, r1) of x [rows][ldx] (head h's columns, times `scale`) into head-major bf16
// [h][rows][d_head].
void heads_to_bf16(const float* x, int ldx, int rows, int r0, int r1, int n_head, int d_head, float scale,
                   uint16_t* dst) {
  float scaled[kMaxHeadDim];
  for (int r = r0; r < r1; ++r) {
    for (int h = 0; h < n_head; ++h) {
      const float* src = x + static_cast<size_t>(r) * ldx + h * d_head;
      for (int i = 0; i < d_head; ++i) scaled[i] = src[i] * scale;
      f32_to_bf16(scaled, dst + (static_cast<size_t>(h) * rows + r) * d_head, d_head);
    }
  }
}

}  // namespace

void attention_bf16(const float* q, int ldq, const float* k, int ldk, const float* v, int ldv, float* out, int ldo,
                    int n_q, int n_kv, int n_head, int d_head) {
  if (d_head > kMaxHeadDim) throw Error("bf16 attention supports heads of up to 256 dimensions");
  const KernelTable& kt = kernels();
  const float scale = 1.0f / std::sqrt(static_cast<float>(d_head));
  const int n_blocks = (n_q + kQueryBlock - 1) / kQueryBlock;
  const int tail = n_q - (n_blocks - 1) * kQueryBlock;
  const AttentionPrimitives& full = attention_primitives(std::min(n_q, kQueryBlock), n_kv, d_head);
  const AttentionPrimitives& last = attention_primitives(tail, n_kv, d_head);

  // Head-major bf16 copies of Q (scaled), K and V, then K^T and V packed per head; the caller's
  // buffers grow once and are shared read-only by the tasks.
  thread_local std::vector<uint16_t> qkv16_buffer;
  thread_local std::vector<unsigned char> packed_buffer;
  const size_t q_elems = static_cast<size_t>(n_q) * n_head * d_head;
  const size_t kv_elems = static_cast<size_t>(n_kv) * n_head * d_head;
  if (qkv16_buffer.size() < q_elems + 2 * kv_elems) qkv16_buffer.resize(q_elems + 2 * kv_elems);
  const size_t k_packed = full.scores.weights.get_size(), v_packed = full.values.weights.get_size();
  const size_t per_head = k_packed + v_packed;
  if (packed_buffer.size() < per_head * n_head) packed_buffer.resize(per_head * n_head);
  uint16_t* q16 = qkv16_buffer.data();
  uint16_t* k16 = q16 + q_elems;
  uint16_t* v16 = k16 + kv_elems;
  unsigned char* packed = packed_buffer.data();

  const int longest = std::max(n_q, n_kv);
  const int row_block = split_size(longest, 16, 2);
  parallel_for((longest + row_block - 1) / row_block, [&](int task) {
    const int r0 = task * row_block, r1 = std::min(longest, r0 + row_block);
    if (r0 < n_q) heads_to_bf16(q, ldq, n_q, r0, std::min(r1, n_q), n_head, d_head, scale, q16);
    if (r0 < n_kv) {
      heads_to_bf16(k, ldk, n_kv, r0, std::min(r1, n_kv), n_head, d_head, 1.0f, k16);
      heads_to_bf16(v, ldv, n_kv, r0, std::min(r1, n_kv), n_head, d_head, 1.0f, v16);
    }
  });
  parallel_for(n_head, [&](int h) {
    SingleThreadedOmp single;
    const dnnl::engine& engine = cpu_engine();
    const size_t head_offset = static_cast<size_t>(h) * n_kv * d_head;
    unsigned char* head = packed + per_head * h;
    memory k_src(memory::desc({d_head, n_kv}, kBf16, Tag::ba), engine, k16 + head_offset);  // K^T
    memory k_dst(full.scores.weights, engine, head);
    memory v_src(memory::desc({n_kv, d_head}, kBf16, Tag::ab), engine, v16 + head_offset);
    memory v_dst(full.values.weights, engine, head + k_packed);
    dnnl::reorder(k_src, k_dst).execute(thread_stream(), k_src, k_dst);
    dnnl::reorder(v_src, v_dst).execute(thread_stream(), v_src, v_dst);
  });

  parallel_for(n_head * n_blocks, [&](int task) {
    SingleThreadedOmp single;
    const int h = task % n_head;
    const int block = task / n_head;
    const int i0 = block * kQueryBlock;
    const bool is_last = block == n_blocks - 1;
    const int m = is_last ? tail : std::min(n_q, kQueryBlock);
    const AttentionPrimitives& p = is_last ? last : full;
    const unsigned char* head = packed + per_head * h;
    float* scores = thread_f32_buffer(static_cast<size_t>(m) * (n_kv + d_head));
    float* head_out = scores + static_cast<size_t>(m) * n_kv;
    uint16_t* probs = thread_bf16_buffer(static_cast<size_t>(m) * n_kv);
    run(p.scores, q16 + (static_cast<size_t>(h) * n_q + i0) * d_head, head, nullptr, scores);
    for (int i = 0; i < m; ++i) {
      float* row = scores + static_cast<size_t>(i) * n_kv;
      kt.softmax(row, n_kv, n_kv);
      f32_to_bf16(row, probs + static_cast<size_t>(i) * n_kv, n_kv);
    }
    run(p.values, probs, head + k_packed, nullptr, head_out);
    for (int i = 0; i < m; ++i) {
      std::memcpy(out + static_cast<size_t>(i0 + i) * ldo + h * d_head, head_out + static_cast<size_t>(i) * d_head,
                  d_head * sizeof(float));
    }
  });
}

}  // namespace wisp

#include "runtime/packed_weights.h"

#include <cstdint>
#include <optional>
#include <vector>

#include "kernels/thread_pool.h"

#include "model/weights.h"

namespace wisp {

namespace {

// Whether the packed form still reads the stored matrix (then its pages must stay).
template <class Matrix>
bool reads_stored(const Matrix&) {
  return false;
}
bool reads_stored(const Int16Matrix& m) { return m.reads_stored(); }

}  // namespace

template <class Matrix>
PackedWeights<Matrix>::PackedWeights(const ModelWeights& w) {
  // Every matrix to pack, in the order the members take them; packed in parallel.
  std::vector<WeightMatrix> sources;
  std::vector<const float*> biases;
  auto add = [&](const WeightMatrix& m, const float* bias) {
    sources.push_back(m);
    biases.push_back(bias);
  };
  for (const ConvWeights* c : {&w.conv1, &w.conv2}) {
    add(WeightMatrix(c->weight, MatrixType::F32, c->out, c->in * c->kernel), c->bias);
  }
  for (const EncoderBlockWeights& b : w.encoder_blocks) {
    for (const LinearWeights* l : {&b.attn.query, &b.attn.key, &b.attn.value, &b.attn.out, &b.fc1, &b.fc2}) {
      add(l->weight, l->bias);
    }
  }
  for (const DecoderBlockWeights& b : w.decoder_blocks) {
    add(b.cross_attn.key.weight, b.cross_attn.key.bias);
    add(b.cross_attn.value.weight, b.cross_attn.value.bias);
  }
  std::vector<std::optional<Matrix>> packed(sources.size());
  parallel_for(static_cast<int>(sources.size()), [&](int i) {
    packed[i].emplace(sources[i]);
    // The stored copy is not read again: its pages go, so the packed one does not double the
    // resident size.
    if (!reads_stored(*packed[i])) w.release_stored(sources[i]);
  });

  size_t next = 0;
  auto take = [&]() {
    PackedLinear<Matrix> linear{std::move(*packed[next]), biases[next]};
    ++next;
    return linear;
  };
  conv.push_back(take());
  conv.push_back(take());
  for (size_t l = 0; l < w.encoder_blocks.size(); ++l) {
    PackedLinear<Matrix> query = take(), key = take(), value = take(), out = take(), fc1 = take(), fc2 = take();
    encoder_blocks.push_back(PackedEncoderBlock<Matrix>{std::move(query), std::move(key), std::move(value), std::move(out),
                                              std::move(fc1), std::move(fc2)});
  }
  for (size_t l = 0; l < w.decoder_blocks.size(); ++l) {
    cross_key.push_back(take());
    cross_value.push_back(take());
  }
}

template <class Matrix>
size_t PackedWeights<Matrix>::bytes() const {
  size_t total = 0;
  for (const PackedLinear<Matrix>& l : conv) total += l.weight.bytes();
  for (const PackedEncoderBlock<Matrix>& b : encoder_blocks) {
    for (const PackedLinear<Matrix>* l : {&b.query, &b.key, &b.value, &b.out, &b.fc1, &b.fc2}) total += l->weight.bytes();
  }
  for (const auto* list : {&cross_key, &cross_value}) {
    for (const PackedLinear<Matrix>& l : *list) total += l.weight.bytes();
  }
  return total;
}

bool PanelWeights::supports(const ModelWeights& w) {
  for (const EncoderBlockWeights& b : w.encoder_blocks) {
    for (const LinearWeights* l : {&b.attn.query, &b.attn.key, &b.attn.value, &b.attn.out, &b.fc1, &b.fc2}) {
      if (!panel_packable(l->weight)) return false;
    }
  }
  for (const DecoderBlockWeights& b : w.decoder_blocks) {
    if (!panel_packable(b.cross_attn.key.weight) || !panel_packable(b.cross_attn.value.weight)) return false;
  }
  return true;
}

bool Int16Weights::reads_in_place(const ModelWeights& w) {
  for (const EncoderBlockWeights& b : w.encoder_blocks) {
    for (const LinearWeights* l : {&b.attn.query, &b.attn.key, &b.attn.value, &b.attn.out, &b.fc1, &b.fc2}) {
      if (!int16_block_readable(l->weight.type)) return false;
    }
  }
  for (const DecoderBlockWeights& b : w.decoder_blocks) {
    if (!int16_block_readable(b.cross_attn.key.weight.type) || !int16_block_readable(b.cross_attn.value.weight.type)) {
      return false;
    }
  }
  return true;
}

template class PackedWeights<Bf16Matrix>;
template class PackedWeights<PanelMatrix>;
template class PackedWeights<Int16Matrix>;

}  // namespace wisp

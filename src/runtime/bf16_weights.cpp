#include "runtime/bf16_weights.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

#include "model/weights.h"

namespace wisp {

namespace {

// After packing, the stored copy of an encoder matrix is not read again: its memory-mapped
// pages are handed back to the page cache so the packed copy does not double the resident size.
// MADV_PAGEOUT keeps contents (anonymous memory is left alone without swap), so it is safe on
// any buffer; pages shared with neighbouring tensors simply fault back in when read.
void release_pages(const WeightMatrix& w) {
#ifdef MADV_PAGEOUT
  static const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(w.data) + page - 1) / page * page;
  const uintptr_t end = (reinterpret_cast<uintptr_t>(w.data) + w.bytes()) / page * page;
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_PAGEOUT);  // best effort
#else
  (void)w;
#endif
}

Bf16Linear pack(const LinearWeights& w) {
  Bf16Linear packed{Bf16Matrix(w.weight), w.bias};
  release_pages(w.weight);
  return packed;
}

Bf16Linear pack(const ConvWeights& c) {
  return Bf16Linear{Bf16Matrix(WeightMatrix(c.weight, MatrixType::F32, c.out, c.in * c.kernel)), c.bias};
}

}  // namespace

Bf16Weights::Bf16Weights(const ModelWeights& w) {
  conv.push_back(pack(w.conv1));
  conv.push_back(pack(w.conv2));
  for (const EncoderBlockWeights& b : w.encoder_blocks) {
    encoder_blocks.push_back(Bf16EncoderBlock{pack(b.attn.query), pack(b.attn.key), pack(b.attn.value),
                                              pack(b.attn.out), pack(b.fc1), pack(b.fc2)});
  }
  for (const DecoderBlockWeights& b : w.decoder_blocks) {
    cross_key.push_back(pack(b.cross_attn.key));
    cross_value.push_back(pack(b.cross_attn.value));
  }
}

size_t Bf16Weights::bytes() const {
  size_t total = 0;
  for (const Bf16Linear& l : conv) total += l.weight.bytes();
  for (const Bf16EncoderBlock& b : encoder_blocks) {
    for (const Bf16Linear* l : {&b.query, &b.key, &b.value, &b.out, &b.fc1, &b.fc2}) total += l->weight.bytes();
  }
  for (const auto* list : {&cross_key, &cross_value}) {
    for (const Bf16Linear& l : *list) total += l.weight.bytes();
  }
  return total;
}

}  // namespace wisp

#include "runtime/bf16_weights.h"

#include "model/weights.h"

namespace wisp {

namespace {

Bf16Linear pack(const LinearWeights& w) { return Bf16Linear{Bf16Matrix(w.weight), w.bias}; }

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

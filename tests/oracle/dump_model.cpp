// Oracle subcommands for the model forward: the encoder output and teacher-forced decoder logits
// of the first 30 s window of an audio file, with the mel window that produced them.
#include <algorithm>
#include <sstream>

#include "kernels/ops.h"
#include "oracle_tool.h"
#include "runtime/decoder.h"
#include "runtime/encoder.h"
#include "wisp/audio.h"
#include "wisp/error.h"
#include "wisp/model.h"

namespace wisp::oracle {
namespace {

// The first decode window as the transcription loop builds it: frames of the audio's content,
// zero-padded to 3000.
LogMel first_window(const Model& model, const std::string& audio_path) {
  const std::vector<float> audio = load_audio(audio_path);
  const LogMel mel = log_mel_spectrogram(audio, model.dims().n_mels, kChunkSamples, 0, model.mel_filters());
  const int content = std::min(mel.n_frames - kChunkFrames, kChunkFrames);
  return mel_segment(mel, 0, content);
}

// --model M --audio F [--mel-out mel.npy] --out encoder.npy
int dump_encoder(const Args& args) {
  set_compute_threads(0);
  auto model = Model::load(require(args, "model"), oracle_load_options(args));
  const LogMel window = first_window(*model, require(args, "audio"));
  if (args.count("mel-out")) {
    write_npy(args.at("mel-out"), window.data.data(), {static_cast<size_t>(window.n_mels), kChunkFrames});
  }
  Encoder encoder(*model);
  const float* features = encoder.forward(window.data.data());
  write_npy(require(args, "out"), features,
            {static_cast<size_t>(encoder.n_ctx()), static_cast<size_t>(encoder.n_state())});
  return 0;
}

// --model M --audio F --tokens a,b,c [--mel-out mel.npy] --out logits.npy
// ([T][n_vocab], teacher-forced)
int dump_logits(const Args& args) {
  set_compute_threads(0);
  auto model = Model::load(require(args, "model"), oracle_load_options(args));
  const LogMel window = first_window(*model, require(args, "audio"));
  if (args.count("mel-out")) {
    write_npy(args.at("mel-out"), window.data.data(), {static_cast<size_t>(window.n_mels), kChunkFrames});
  }
  const std::vector<int> tokens = parse_tokens(require(args, "tokens"));
  Encoder encoder(*model);
  Decoder decoder(*model, 1);
  decoder.set_audio_features(encoder.forward(window.data.data()));
  const int n = static_cast<int>(tokens.size());
  // Half the tokens in one pass, the rest one at a time: checks the KV cache as well.
  const int first = std::max(1, n / 2);
  std::vector<float> logits(static_cast<size_t>(n) * decoder.n_vocab());
  const float* out = decoder.forward(tokens.data(), 1, first, 0, /*all_positions=*/true);
  std::copy(out, out + static_cast<size_t>(first) * decoder.n_vocab(), logits.begin());
  for (int i = first; i < n; ++i) {
    out = decoder.forward(&tokens[i], 1, 1, i);
    std::copy(out, out + decoder.n_vocab(), logits.begin() + static_cast<long>(i) * decoder.n_vocab());
  }
  write_npy(require(args, "out"), logits.data(), {static_cast<size_t>(n), static_cast<size_t>(decoder.n_vocab())});
  return 0;
}

}  // namespace

WISP_ORACLE_COMMAND("encoder", dump_encoder);
WISP_ORACLE_COMMAND("logits", dump_logits);

}  // namespace wisp::oracle

// Oracle subcommand for word-level timestamps: find_alignment's words, the raw cross-attention
// scores of the first alignment head, and add_word_timestamps over one segment holding all the
// text tokens, for the first 30 s window of an audio file.
#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "kernels/ops.h"
#include "oracle_tool.h"
#include "runtime/decoder.h"
#include "runtime/encoder.h"
#include "transcribe/word_timing.h"
#include "wisp/audio.h"
#include "wisp/error.h"
#include "wisp/model.h"

namespace wisp::oracle {
namespace {

nlohmann::json words_json(const std::vector<WordTiming>& words) {
  nlohmann::json out = nlohmann::json::array();
  for (const WordTiming& w : words) {
    out.push_back({{"word", w.word}, {"tokens", w.tokens}, {"start", w.start}, {"end", w.end},
                   {"probability", w.probability}});
  }
  return out;
}

// --model M --audio A --language L --tokens a,b,c [--task T] [--mel-out mel.npy] [--qk-out qk.npy]
// --out alignment.json
int dump_alignment(const Args& args) {
  set_compute_threads(0);
  auto model = Model::load(require(args, "model"), oracle_load_options(args));
  const Tokenizer& tokenizer = model->tokenizer();
  const SpecialTokens& special = tokenizer.special();
  const std::string language = require(args, "language");
  const std::string task = args.count("task") ? args.at("task") : "transcribe";
  const std::vector<int> text_tokens = parse_tokens(require(args, "tokens"));

  // The first window as the transcription loop builds it: the audio's frames, zero-padded.
  const std::vector<float> audio = load_audio(require(args, "audio"));
  const LogMel mel = log_mel_spectrogram(audio, model->dims().n_mels, kChunkSamples, 0, model->mel_filters());
  const int num_frames = std::min(mel.n_frames - kChunkFrames, kChunkFrames);
  const LogMel window = mel_segment(mel, 0, num_frames);
  if (args.count("mel-out")) {
    write_npy(args.at("mel-out"), window.data.data(), {static_cast<size_t>(window.n_mels), kChunkFrames});
  }

  std::vector<int> sot_sequence = {special.sot};
  if (tokenizer.multilingual()) {
    const auto language_token = tokenizer.language_token(language);
    if (!language_token) throw Error("unknown --language " + language);
    sot_sequence.push_back(*language_token);
    sot_sequence.push_back(task == "translate" ? special.translate : special.transcribe);
  }

  Encoder encoder(*model);
  Decoder decoder(*model, 1);
  decoder.set_audio_features(encoder.forward(window.data.data()));

  if (args.count("qk-out")) {
    std::vector<int> tokens = sot_sequence;
    tokens.push_back(special.no_timestamps);
    tokens.insert(tokens.end(), text_tokens.begin(), text_tokens.end());
    tokens.push_back(special.eot);
    const int n = static_cast<int>(tokens.size());
    decoder.set_alignment_heads({alignment_heads_or_default(*model).front()}, n);
    decoder.forward(tokens.data(), 1, n, 0, /*all_positions=*/true);
    write_npy(args.at("qk-out"), decoder.alignment_qk(0),
              {static_cast<size_t>(n), static_cast<size_t>(model->dims().n_audio_ctx)});
    decoder.set_alignment_heads({});
  }

  const std::vector<WordTiming> alignment =
      find_alignment(decoder, *model, sot_sequence, text_tokens, language, num_frames);

  // One segment over the whole content, as a window decoded without timestamps.
  std::vector<Segment> segments(1);
  segments[0].seek = 0;
  segments[0].start = 0;
  segments[0].end = num_frames * static_cast<double>(kHopLength) / kSampleRate;
  segments[0].tokens = text_tokens;
  segments[0].tokens.push_back(special.eot);
  double last_speech_timestamp = 0;
  add_word_timestamps(segments, decoder, *model, sot_sequence, language, num_frames, WordTimingOptions{},
                      last_speech_timestamp);

  const nlohmann::json out = {
      {"num_frames", num_frames},
      {"sot_sequence", sot_sequence},
      {"alignment_heads", alignment_heads_or_default(*model)},
      {"alignment", words_json(alignment)},
      {"segment", {{"start", segments[0].start}, {"end", segments[0].end}, {"words", words_json(segments[0].words)}}},
      {"last_speech_timestamp", last_speech_timestamp},
  };
  std::ofstream file(require(args, "out"));
  if (!file) throw Error("cannot write " + args.at("out"));
  file << out.dump(2) << "\n";
  return 0;
}

}  // namespace

WISP_ORACLE_COMMAND("alignment", dump_alignment);

}  // namespace wisp::oracle

// Oracle subcommands for audio: decoded samples, log-mel spectrograms and mel filterbanks.
//   audio       --audio F --out x.npy                                  [n] float32 samples
//   mel         --audio F --n-mels 80|128 [--padding N] [--threads T] --out mel.npy  [n_mels][frames]
//   mel_filters --n-mels 80|128 --out filters.npy                      [n_mels][201]
#include <string>

#include "oracle_tool.h"
#include "wisp/audio.h"
#include "wisp/error.h"

namespace {

using wisp::oracle::Args;
using wisp::oracle::require;

int int_argument(const Args& args, const std::string& key, int fallback) {
  auto it = args.find(key);
  if (it == args.end()) return fallback;
  try {
    return std::stoi(it->second);
  } catch (const std::exception&) {
    throw wisp::Error("--" + key + " must be an integer, got '" + it->second + "'");
  }
}

int dump_audio(const Args& args) {
  const std::vector<float> samples = wisp::load_audio(require(args, "audio"));
  wisp::oracle::write_npy(require(args, "out"), samples.data(), {samples.size()});
  return 0;
}

int dump_mel(const Args& args) {
  const std::vector<float> samples = wisp::load_audio(require(args, "audio"));
  const wisp::LogMel mel = wisp::log_mel_spectrogram(
      samples, int_argument(args, "n-mels", 80), int_argument(args, "padding", 0),
      int_argument(args, "threads", 0));
  wisp::oracle::write_npy(require(args, "out"), mel.data.data(),
                          {static_cast<size_t>(mel.n_mels), static_cast<size_t>(mel.n_frames)});
  return 0;
}

int dump_mel_filters(const Args& args) {
  const int n_mels = int_argument(args, "n-mels", 80);
  const std::vector<float> bank = wisp::mel_filters(n_mels);
  wisp::oracle::write_npy(require(args, "out"), bank.data(),
                          {static_cast<size_t>(n_mels), static_cast<size_t>(wisp::kNFft / 2 + 1)});
  return 0;
}

}  // namespace

WISP_ORACLE_COMMAND("audio", dump_audio);
WISP_ORACLE_COMMAND("mel", dump_mel);
WISP_ORACLE_COMMAND("mel_filters", dump_mel_filters);

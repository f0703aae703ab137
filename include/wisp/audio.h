// wisp/audio.h - audio decoding and Whisper's log-mel spectrogram.
#pragma once

#include <span>
#include <string>
#include <vector>

namespace wisp {

inline constexpr int kSampleRate = 16000;
inline constexpr int kNFft = 400;
inline constexpr int kHopLength = 160;
inline constexpr int kChunkSeconds = 30;
inline constexpr int kChunkSamples = kSampleRate * kChunkSeconds;  // 480000
inline constexpr int kChunkFrames = kChunkSamples / kHopLength;    // 3000

// Decodes any file FFmpeg's libraries can read ("-" reads standard input) to mono float32 PCM at
// `sample_rate`, downmixing all channels. Throws wisp::Error naming the file on failure.
std::vector<float> load_audio(const std::string& path, int sample_rate = kSampleRate);

// A log-mel spectrogram, row-major [n_mels][n_frames].
struct LogMel {
  int n_mels = 0;
  int n_frames = 0;
  std::vector<float> data;
  const float* row(int mel) const { return data.data() + static_cast<size_t>(mel) * n_frames; }
};

// Slaney-style mel filterbank (as librosa.filters.mel(sr=16000, n_fft=400, n_mels)), row-major
// [n_mels][n_fft/2+1]. n_mels is 80 or 128.
std::vector<float> mel_filters(int n_mels);

// openai-whisper's log_mel_spectrogram(audio, n_mels, padding): `padding` zero samples are appended,
// STFT (n_fft 400, hop 160, periodic Hann, centred with reflect padding), last frame dropped,
// power spectrum, mel projection, log10 with 1e-10 clamp, floor at max-8, (x+4)/4.
// Result has (samples.size()+padding)/160 frames. `filters` may be empty (computed), or a
// [n_mels][201] bank to use instead (e.g. the one stored in a ggml model file).
LogMel log_mel_spectrogram(std::span<const float> samples, int n_mels, int padding = 0,
                           int n_threads = 0, std::span<const float> filters = {});

// Frames [offset, offset+n_frames) of `mel`, zero-padded on the right (as openai's
// pad_or_trim applied to a mel slice) - the input of one 30 s encoder window.
LogMel mel_window(const LogMel& mel, int offset, int n_frames = kChunkFrames);

// openai's pad_or_trim(mel[:, offset:offset+content]): at most `content` frames from `offset`,
// zero-padded to `n_frames` - the input of one window of the transcription loop.
LogMel mel_segment(const LogMel& mel, int offset, int content, int n_frames = kChunkFrames);

}  // namespace wisp

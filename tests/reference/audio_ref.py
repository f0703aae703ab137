"""Independent reference for wisp's audio front end, written from openai-whisper's audio.py.

load_audio runs the ffmpeg CLI exactly as openai-whisper does; log_mel_spectrogram uses
torch.stft and the mel filterbanks openai ships (mel_filters.npz).
"""
import subprocess

import numpy as np
import torch

SAMPLE_RATE = 16000
N_FFT = 400
HOP_LENGTH = 160


def load_audio_int16(path, sr=SAMPLE_RATE):
    """The raw int16 samples openai-whisper's load_audio gets from the ffmpeg CLI."""
    cmd = ["ffmpeg", "-nostdin", "-threads", "0", "-i", path, "-f", "s16le", "-ac", "1",
           "-acodec", "pcm_s16le", "-ar", str(sr), "-"]
    out = subprocess.run(cmd, capture_output=True, check=True).stdout
    return np.frombuffer(out, np.int16)


def load_audio(path, sr=SAMPLE_RATE):
    return load_audio_int16(path, sr).flatten().astype(np.float32) / 32768.0


def mel_filters(npz_path, n_mels):
    with np.load(npz_path, allow_pickle=False) as f:
        return torch.from_numpy(f[f"mel_{n_mels}"])


def log_mel_spectrogram(samples, n_mels, padding, npz_path):
    audio = torch.from_numpy(np.asarray(samples, dtype=np.float32))
    if padding > 0:
        audio = torch.nn.functional.pad(audio, (0, padding))
    window = torch.hann_window(N_FFT)
    stft = torch.stft(audio, N_FFT, HOP_LENGTH, window=window, return_complex=True)
    magnitudes = stft[..., :-1].abs() ** 2
    mel_spec = mel_filters(npz_path, n_mels) @ magnitudes
    log_spec = torch.clamp(mel_spec, min=1e-10).log10()
    log_spec = torch.maximum(log_spec, log_spec.max() - 8.0)
    log_spec = (log_spec + 4.0) / 4.0
    return log_spec.numpy()

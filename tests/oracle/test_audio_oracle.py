"""wisp's audio front end against the independent reference (tests/reference/audio_ref.py).

Decoded samples are compared with openai-whisper's ffmpeg CLI pipeline, log-mel spectrograms with
torch.stft + openai's stored filterbanks, and the filterbanks with mel_filters.npz.
"""
import functools
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest

SOURCE = pathlib.Path(os.environ.get("WISP_SOURCE", pathlib.Path(__file__).resolve().parents[2]))
SHARED = pathlib.Path(os.environ.get("WISP_SHARED", SOURCE.parent / "shared"))
WORK = pathlib.Path(os.environ.get("WISP_WORK", "/tmp/wisp_testwork")) / "audio_oracle"
TOOL = os.environ.get("WISP_ORACLE_DUMP", "")
NPZ = SHARED / "assets" / "mel_filters.npz"

sys.path.insert(0, str(SOURCE / "tests" / "reference"))
import audio_ref  # noqa: E402

if not (SHARED / "audio").is_dir() or not NPZ.is_file():
    pytest.skip(f"shared test data not found at {SHARED}", allow_module_level=True)
if not TOOL or not os.access(TOOL, os.X_OK):
    pytest.skip(f"oracle dump tool not built (WISP_ORACLE_DUMP={TOOL!r})", allow_module_level=True)
WORK.mkdir(parents=True, exist_ok=True)

CLIPS = ["jfk.flac", "jfk.mp3", "multilingual.mp3", "zh_test.wav", "stereo_diarization.wav"]

# Measured max |wisp - torch reference| over these clips: 3.03e-5 (multilingual.mp3, 80 mels);
# the log-mel values span about [-1.5, 1.5]. Float32 FFT/matmul rounding differences only.
MEL_TOLERANCE = 1e-4


def run_tool(*args, stdin=None):
    return subprocess.run([TOOL, *map(str, args)], stdin=stdin, capture_output=True, text=True)


def dump(command, out_name, *args, stdin=None):
    out = WORK / out_name
    result = run_tool(command, *args, "--out", out, stdin=stdin)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", f"unexpected output on stderr: {result.stderr!r}"
    return np.load(out)


def ffmpeg_make(name, *args):
    """Generates a test input with the ffmpeg CLI into the scratch dir."""
    path = WORK / name
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args, str(path)], check=True)
    return path


@functools.lru_cache(maxsize=None)
def reference_samples(path):
    return audio_ref.load_audio(str(path))


def assert_same_samples(ours, path):
    expected = audio_ref.load_audio_int16(str(path))
    assert ours.shape == expected.shape
    scaled = ours * 32768.0
    assert np.array_equal(scaled, np.round(scaled)), "samples are not int16 / 32768"
    # Identical to openai-whisper's ffmpeg CLI output, sample for sample.
    assert np.array_equal(scaled.astype(np.int64), expected.astype(np.int64))


@pytest.mark.parametrize("n_mels", [80, 128])
def test_filters_match_npz(n_mels):
    ours = dump("mel_filters", f"filters_{n_mels}.npy", "--n-mels", n_mels)
    with np.load(NPZ) as f:
        expected = f[f"mel_{n_mels}"]
    assert ours.shape == expected.shape == (n_mels, 201)
    # Measured: bit-identical.
    assert np.abs(ours - expected).max() <= 1e-8


@pytest.mark.parametrize("clip", CLIPS + ["hotwords.mp3"])
def test_samples_match_ffmpeg_cli(clip):
    path = SHARED / "audio" / clip
    assert_same_samples(dump("audio", f"samples_{clip}.npy", "--audio", path), path)


@pytest.mark.parametrize("padding", [0, 480000])
@pytest.mark.parametrize("n_mels", [80, 128])
@pytest.mark.parametrize("clip", CLIPS)
def test_log_mel_matches_reference(clip, n_mels, padding):
    path = SHARED / "audio" / clip
    ours = dump("mel", f"mel_{clip}_{n_mels}_{padding}.npy", "--audio", path,
                "--n-mels", n_mels, "--padding", padding)
    expected = audio_ref.log_mel_spectrogram(reference_samples(path), n_mels, padding, NPZ)
    assert ours.shape == expected.shape
    assert ours.shape[1] == (len(reference_samples(path)) + padding) // 160
    diff = np.abs(ours - expected).max()
    assert diff <= MEL_TOLERANCE, f"max |diff| {diff:.3g}"


def test_stdin_m4a_with_index_at_end():
    # The ffmpeg mp4 muxer writes the moov index after the media data unless asked not to, so
    # decoding this from a pipe needs the buffered, seekable stdin input.
    m4a = ffmpeg_make("index_at_end.m4a", "-i", SHARED / "audio" / "jfk.flac", "-c:a", "aac")
    data = m4a.read_bytes()
    assert data.find(b"mdat") < data.find(b"moov"), "test file does not have moov at the end"
    with open(m4a, "rb") as stdin:
        ours = dump("audio", "stdin_m4a.npy", "--audio", "-", stdin=stdin)
    assert_same_samples(ours, m4a)


def test_video_file_uses_its_audio_track():
    video = ffmpeg_make("with_video.mp4", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10",
                        "-i", SHARED / "audio" / "hotwords.mp3", "-shortest", "-map", "0:v",
                        "-map", "1:a", "-c:v", "mpeg4", "-c:a", "aac")
    assert_same_samples(dump("audio", "video.npy", "--audio", video), video)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg CLI not installed")
def test_ogg_opus():
    encoders = subprocess.run(["ffmpeg", "-hide_banner", "-encoders"], capture_output=True,
                              text=True).stdout
    if "libopus" not in encoders:
        pytest.skip("ffmpeg has no libopus encoder")
    opus = ffmpeg_make("speech.ogg", "-i", SHARED / "audio" / "jfk.mp3", "-c:a", "libopus")
    assert_same_samples(dump("audio", "opus.npy", "--audio", opus), opus)


def test_truncated_file_decodes_what_is_there_quietly():
    cut = WORK / "cut.mp3"
    cut.write_bytes((SHARED / "audio" / "jfk.mp3").read_bytes()[:30000])
    # dump() also asserts FFmpeg printed nothing about the broken last frame.
    assert_same_samples(dump("audio", "cut.npy", "--audio", cut), cut)


@pytest.mark.parametrize("content", [b"", b"meeting notes, not audio\n" * 10])
def test_bad_input_is_one_clean_error_line(content):
    bad = WORK / "bad.wav"
    bad.write_bytes(content)
    result = run_tool("audio", "--audio", bad, "--out", WORK / "bad.npy")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: cannot decode audio from {bad}: ")
    assert lines[0].endswith("is it an audio or video file?")

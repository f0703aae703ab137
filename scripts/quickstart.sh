#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: install dependencies, build wisp (Release), write a
# random-weight tiny model (no pretrained weights can be downloaded here) and transcribe a clip.
# Usage: scripts/quickstart.sh [AUDIO_FILE]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DWISP_BUILD_TESTS=OFF
cmake --build build

model="models/tiny-random"
if [ ! -f "$model/model.safetensors" ]; then
  /usr/bin/python3 tools/make_test_model.py --size tiny --format hf --seed 0 --out "$model"
fi

audio="${1:-$root/../shared/audio/jfk.flac}"
if [ ! -f "$audio" ]; then
  echo "quickstart: $audio not found; generating a 5 s tone instead" >&2
  audio="build/tone.wav"
  ffmpeg -loglevel error -y -f lavfi -i "sine=frequency=440:duration=5" "$audio"
fi
# Random weights repeat themselves, so every window would fail the compression-ratio gate and be
# decoded again at rising temperatures; real models don't need this option.
echo "quickstart: build/wisp transcribe $audio --model $model --temperature_increment_on_fallback None --verbose True"
build/wisp transcribe "$audio" --model "$model" --temperature_increment_on_fallback None --verbose True

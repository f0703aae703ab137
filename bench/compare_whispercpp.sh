#!/usr/bin/env bash
# Speed of wisp vs whisper.cpp on the same ggml files, same precision, same threads.
#
#   bench/compare_whispercpp.sh [--sizes "tiny base small"] [--types "f16 q8_0 q5_0 q4_0"]
#       [--threads "1 2"] [--rounds 3] [--compute "auto int16"] [--no-e2e] [--e2e-size tiny]
#       [--e2e-type f16] [--wisp build/wisp] [--dir DIR]
#
# Builds whisper.cpp 1.9.1 from the source the npm package nodejs-whisper ships (cpp/whisper.cpp)
# in DIR (default $WISP_BENCH_DIR or build/whispercpp), Release, native, GGML_LLAMAFILE=ON; writes
# random-weight models with wisp's own tools (make_test_model.py for f32/f16 ggml, `wisp convert`
# for the quantized types); runs whisper-bench and `wisp bench` alternately (A B A B ...) for
# --rounds rounds per model, type and thread count; prints wisp/whisper.cpp ratios per metric
# (median of rounds; < 1 means wisp is faster). --compute runs wisp once per listed
# --compute-type in each round (default: auto), each its own row against the same whisper.cpp
# figures. Then one end-to-end row: a 10-minute file made of ../shared/audio clips, beam 5,
# `whisper-cli -bs 5` vs `wisp transcribe --beam_size 5` (auto compute).
# Quick run: --sizes tiny --types "f16 q8_0" --threads 2 --rounds 1 --no-e2e
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="${WISP_SHARED:-$ROOT/../shared}"
DIR="${WISP_BENCH_DIR:-$ROOT/build/whispercpp}"
WISP="$ROOT/build/wisp"
SIZES="tiny base small"
TYPES="f16 q8_0 q5_0 q4_0"
THREADS="1 2"
ROUNDS=3
COMPUTE="auto"
E2E=1
E2E_SIZE=tiny
E2E_TYPE=f16
NPM_PACKAGE="nodejs-whisper@0.3.1"  # ships whisper.cpp 1.9.1 in cpp/whisper.cpp
WHISPERCPP_VERSION="1.9.1"
PYTHON=/usr/bin/python3

usage() { sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --sizes) SIZES="$2"; shift 2 ;;
    --types) TYPES="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --compute) COMPUTE="$2"; shift 2 ;;
    --no-e2e) E2E=0; shift ;;
    --e2e-size) E2E_SIZE="$2"; shift 2 ;;
    --e2e-type) E2E_TYPE="$2"; shift 2 ;;
    --wisp) WISP="$2"; shift 2 ;;
    --dir) DIR="$2"; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "error: --rounds must be a positive integer" >&2; exit 2; }
[[ -x "$WISP" ]] || { echo "error: $WISP not found; build wisp first (cmake + ninja) or pass --wisp" >&2; exit 2; }
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
log() { echo "== $*" >&2; }
# OpenBLAS (wisp's sgemm; whisper.cpp does not use it) picks its kernels for the CPU unless
# OPENBLAS_CORETYPE names a core. An inherited setting is dropped so that both engines run in
# their default configuration (one seen here, Haswell on a Zen 5, halved sgemm's width).
if [[ -n "${OPENBLAS_CORETYPE:-}" ]]; then
  log "note: unsetting OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE from the environment (OpenBLAS then picks its kernels for this CPU)"
  unset OPENBLAS_CORETYPE
fi

# 1. whisper.cpp from the npm package, built once.
SRC="$DIR/src/package/cpp/whisper.cpp"
BUILD="$DIR/build"
if [[ ! -x "$BUILD/bin/whisper-bench" || ! -x "$BUILD/bin/whisper-cli" ]]; then
  if [[ ! -f "$SRC/CMakeLists.txt" ]]; then
    log "fetching $NPM_PACKAGE"
    mkdir -p "$DIR/src"
    (cd "$DIR/src" && npm pack --silent "$NPM_PACKAGE" >/dev/null && tar xzf nodejs-whisper-*.tgz)
  fi
  grep -q "project(\"whisper.cpp\" VERSION $WHISPERCPP_VERSION)" "$SRC/CMakeLists.txt" ||
    { echo "error: $SRC is not whisper.cpp $WHISPERCPP_VERSION; delete $DIR/src and retry" >&2; exit 1; }
  log "building whisper.cpp $WHISPERCPP_VERSION in $BUILD"
  cmake -S "$SRC" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DGGML_LLAMAFILE=ON \
    -DWHISPER_BUILD_EXAMPLES=ON -DWHISPER_BUILD_TESTS=OFF -DWHISPER_SDL2=OFF -DBUILD_SHARED_LIBS=OFF >&2
  cmake --build "$BUILD" --target whisper-bench whisper-cli -j "$(nproc)" >&2
fi

# 2. The same random-weight models for both engines.
model_file() {  # size type -> path
  local size="$1" type="$2" dir="$DIR/models/$1"
  if [[ "$type" == f32 || "$type" == f16 ]]; then
    if [[ ! -f "$dir/$type/ggml-model.bin" ]]; then
      log "writing $size $type"
      "$PYTHON" "$ROOT/tools/make_test_model.py" --size "$size" --format ggml --dtype "$type" \
        --out "$dir/$type" --assets "$SHARED/assets" >/dev/null
    fi
    echo "$dir/$type/ggml-model.bin"
  else
    local f32; f32="$(model_file "$size" f32)"
    [[ -f "$dir/ggml-$type.bin" ]] || "$WISP" convert "$f32" "$dir/ggml-$type.bin" --type "$type" >&2
    echo "$dir/ggml-$type.bin"
  fi
}

RESULTS="$DIR/results-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$RESULTS"
log "raw outputs in $RESULTS"
for size in $SIZES; do
  for type in $TYPES; do
    model="$(model_file "$size" "$type")"
    for threads in $THREADS; do
      for ((round = 1; round <= ROUNDS; ++round)); do
        tag="$size.$type.t$threads.r$round"
        log "$tag: whisper.cpp"
        /usr/bin/time -f "peak_rss_kb %M" "$BUILD/bin/whisper-bench" -m "$model" -t "$threads" -ng \
          >"$RESULTS/$tag.whispercpp.out" 2>&1 || { echo "error: whisper-bench failed, see $RESULTS/$tag.whispercpp.out" >&2; exit 1; }
        for compute in $COMPUTE; do
          name="wisp"; [[ "$compute" == auto ]] || name="wisp-$compute"
          log "$tag: $name"
          "$WISP" bench --model "$model" --threads "$threads" --compute-type "$compute" --json \
            >"$RESULTS/$tag.$name.json" || { echo "error: wisp bench --compute-type $compute failed on $model" >&2; exit 1; }
        done
      done
    done
  done
done

# 3. End to end: 10 minutes of audio, beam 5.
if [[ "$E2E" == 1 ]]; then
  audio="$DIR/ten_minutes.wav"
  if [[ ! -f "$audio" ]]; then
    log "making $audio from $SHARED/audio"
    list="$DIR/clips.txt"; : >"$list"
    # Each clip as 16 kHz mono 16-bit WAV (what whisper-cli wants; the concat demuxer needs one
    # format), the list repeated past 600 s (the demuxer does not loop), cut at 600 s.
    mkdir -p "$DIR/clips"
    for clip in "$SHARED"/audio/*; do
      wav="$DIR/clips/$(basename "${clip%.*}").wav"
      ffmpeg -loglevel error -y -i "$clip" -ar 16000 -ac 1 -c:a pcm_s16le "$wav"
    done
    for _ in $(seq 20); do
      for wav in "$DIR"/clips/*.wav; do echo "file '$wav'" >>"$list"; done
    done
    ffmpeg -loglevel error -y -f concat -safe 0 -i "$list" -t 600 -ar 16000 -ac 1 -c:a pcm_s16le "$audio"
    duration="$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$audio")"
    awk -v d="$duration" 'BEGIN { exit !(d >= 599) }' ||
      { echo "error: $audio is only ${duration}s long, not 600 s" >&2; rm -f "$audio"; exit 1; }
  fi
  model="$(model_file "$E2E_SIZE" "$E2E_TYPE")"
  # Temperature fallback off in both: random-weight models fail the compression-ratio gate in
  # almost every window, and each engine's sampling would then decode different amounts of text.
  # Both stop a window at 224 tokens; the logs give windows and decode steps of each.
  for threads in $THREADS; do
    for ((round = 1; round <= ROUNDS; ++round)); do
      tag="e2e.$E2E_SIZE.$E2E_TYPE.t$threads.r$round"
      log "$tag: whisper.cpp"
      /usr/bin/time -f "wall_s %e peak_rss_kb %M" -o "$RESULTS/$tag.whispercpp.time" "$BUILD/bin/whisper-cli" \
        -m "$model" -f "$audio" -bs 5 -nf -t "$threads" -l en -ng >"$RESULTS/$tag.whispercpp.txt" \
        2>"$RESULTS/$tag.whispercpp.log" || echo "warning: whisper-cli failed on $tag" >&2
      log "$tag: wisp"
      /usr/bin/time -f "wall_s %e peak_rss_kb %M" -o "$RESULTS/$tag.wisp.time" "$WISP" transcribe "$audio" \
        --model "$model" --beam_size 5 --temperature_increment_on_fallback None --threads "$threads" \
        --language en --verbose True >"$RESULTS/$tag.wisp.txt" 2>"$RESULTS/$tag.wisp.log" ||
        echo "warning: wisp transcribe failed on $tag" >&2
    done
  done
fi

"$PYTHON" "$ROOT/bench/compare_table.py" "$RESULTS"

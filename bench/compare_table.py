#!/usr/bin/python3
"""Reads the raw outputs of bench/compare_whispercpp.sh and prints wisp/whisper.cpp ratios.

    /usr/bin/python3 bench/compare_table.py RESULTS_DIR

Per model, type and thread count and per metric: the median over rounds of each engine's figure,
and their ratio wisp / whisper.cpp (< 1: wisp is faster or smaller); one row per wisp compute
type (files NAME.wisp.json: auto; NAME.wisp-TYPE.json: --compute-type TYPE). whisper-bench prints
means ("ms per run": total / calls for encode and decode, total / tokens for batchd and prompt),
so wisp's means (mean_ms_per_token) are compared with them."""

from __future__ import annotations

import json
import re
import statistics
import sys
from collections import defaultdict
from pathlib import Path

BENCH_FILE = re.compile(r"^(?P<size>[\w.-]+?)\.(?P<type>f32|f16|q\d_\d)\.t(?P<threads>\d+)\.r(?P<round>\d+)"
                        r"\.(?P<engine>whispercpp\.out|wisp(?:-(?P<compute>\w+))?\.json)$")
E2E_FILE = re.compile(r"^e2e\.(?P<size>[\w-]+)\.(?P<type>[\w]+)\.t(?P<threads>\d+)\.r\d+\.(?P<engine>whispercpp|wisp)\.time$")
WHISPERCPP_LINE = re.compile(r"(load|encode|decode|batchd|prompt) time =\s*([\d.]+) ms"
                             r"(?: /\s*\d+ runs \(\s*([\d.]+) ms per run\))?")
METRICS = ["load_ms", "encode_ms", "decode_ms", "batchd_ms", "prompt_ms", "peak_rss_mb"]


def peak_rss_mb(text: str) -> float | None:
    match = re.search(r"peak_rss_kb (\d+)", text)
    return int(match.group(1)) / 1024 if match else None


def parse_whispercpp(path: Path) -> dict[str, float]:
    text = path.read_text(errors="replace")
    values: dict[str, float] = {}
    for name, total, per_run in WHISPERCPP_LINE.findall(text):
        values[f"{name}_ms"] = float(per_run or total)
    if (rss := peak_rss_mb(text)) is not None:
        values["peak_rss_mb"] = rss
    return values


def parse_wisp(path: Path) -> dict[str, float]:
    report = json.loads(path.read_text())
    m = report["metrics"]
    values = {"load_ms": report["load_ms"], "encode_ms": m["encode"]["mean_ms_per_token"],
              "decode_ms": m["decode"]["mean_ms_per_token"], "batchd_ms": m["batched"]["mean_ms_per_token"],
              "prompt_ms": m["prompt"]["mean_ms_per_token"]}
    # The process's own getrusage maximum, taken before the bench's read-bandwidth probe (whose
    # buffer /usr/bin/time would count); the same quantity /usr/bin/time reports for whisper.cpp.
    values["peak_rss_mb"] = report["peak_rss_bytes"] / (1024 * 1024)
    if report.get("read_bandwidth_bytes_per_s"):
        values["decode_gb_s"] = report["decode_bytes_per_s"] / 1e9
        values["read_bw_gb_s"] = report["read_bandwidth_bytes_per_s"] / 1e9
    return values


def e2e_work(results: Path, size: str, type_: str, threads: int) -> str:
    """Windows encoded and decode calls of each engine's first round (random weights decode
    different texts, so the wall times compare only with the work next to them)."""
    tag = f"e2e.{size}.{type_}.t{threads}.r1"
    parts = []
    cpp_log, wisp_log = results / f"{tag}.whispercpp.log", results / f"{tag}.wisp.log"
    if cpp_log.exists():
        runs = dict(re.findall(r"(encode|decode|batchd) time =\s*[\d.]+ ms /\s*(\d+) runs", cpp_log.read_text(errors="replace")))
        parts.append(f"whisper.cpp: {runs.get('encode', '?')} encodes, {runs.get('decode', '?')} decode + "
                     f"{runs.get('batchd', '?')} batched calls")
    if wisp_log.exists():
        text = wisp_log.read_text(errors="replace")
        passes = re.search(r"\((\d+) pass", text)
        steps = re.search(r"\((\d+) steps", text)
        parts.append(f"wisp: {passes.group(1) if passes else '?'} encodes, {steps.group(1) if steps else '?'} decode steps")
    return "; ".join(parts)


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def ratio_cell(wisp: float | None, cpp: float | None) -> str:
    if wisp is None or cpp is None or cpp == 0:
        return "-"
    return f"{wisp / cpp:.2f} ({wisp:.1f}/{cpp:.1f})"


def main() -> int:
    if len(sys.argv) != 2 or not Path(sys.argv[1]).is_dir():
        print(__doc__, file=sys.stderr)
        return 2
    results = Path(sys.argv[1])
    # (size, type, threads) -> engine ("whispercpp", or "wisp" with the compute type) -> metric -> values
    runs: dict[tuple, dict[str, dict[str, list[float]]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for path in sorted(results.iterdir()):
        match = BENCH_FILE.match(path.name)
        if not match:
            continue
        key = (match["size"], match["type"], int(match["threads"]))
        engine = "whispercpp" if match["engine"] == "whispercpp.out" else f"wisp {match['compute'] or 'auto'}"
        try:
            parsed = parse_whispercpp(path) if engine == "whispercpp" else parse_wisp(path)
        except (json.JSONDecodeError, KeyError):
            print(f"skipping {path.name}: incomplete (a run still going, or one that failed)", file=sys.stderr)
            continue
        for metric, value in parsed.items():
            runs[key][engine][metric].append(value)

    print("wisp / whisper.cpp, median of rounds (wisp ms / whisper.cpp ms; decode metrics per token)")
    header = ["model", "type", "thr", "compute", "rounds"] + METRICS
    rows = [header]
    for (size, type_, threads), engines in sorted(runs.items()):
        for engine in sorted(e for e in engines if e != "whispercpp"):
            wisp = engines[engine]
            row = [size, type_, str(threads), engine.split()[1], str(len(wisp.get("encode_ms", [])))]
            for metric in METRICS:
                row.append(ratio_cell(median(wisp.get(metric, [])), median(engines["whispercpp"].get(metric, []))))
            rows.append(row)

    e2e: dict[tuple, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted(results.iterdir()):
        match = E2E_FILE.match(path.name)
        if match and (wall := re.search(r"wall_s ([\d.]+)", path.read_text())):
            e2e[(match["size"], match["type"], int(match["threads"]))][match["engine"]].append(float(wall.group(1)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for r in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths)))
    print("\nwisp decode against its memory bound (bytes a token reads / time, vs a measured read bandwidth)")
    for (size, type_, threads), engines in sorted(runs.items()):
        for engine in sorted(e for e in engines if e != "whispercpp"):
            decode, bandwidth = median(engines[engine].get("decode_gb_s", [])), median(engines[engine].get("read_bw_gb_s", []))
            if decode and bandwidth:
                print(f"  {size} {type_} t{threads} {engine.split()[1]}: {decode:.1f} GB/s of {bandwidth:.1f} GB/s "
                      f"({100 * decode / bandwidth:.0f}%)")
    if e2e:
        print("\nend to end, 10 min audio, beam 5, no fallback: wisp / whisper.cpp wall time (s)")
        for (size, type_, threads), engines in sorted(e2e.items()):
            print(f"  {size} {type_} t{threads}: "
                  f"{ratio_cell(median(engines['wisp']), median(engines['whispercpp']))}"
                  f"  [{e2e_work(results, size, type_, threads)}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())

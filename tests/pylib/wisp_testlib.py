"""Shared helpers for wisp's Python tests: where things are, cached random-weight models,
running the CLI. Tests run under CTest, which sets WISP_BIN, WISP_ORACLE_DUMP, WISP_SHARED,
WISP_SOURCE and WISP_WORK; sensible defaults apply when a test is run by hand."""
import hashlib
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

SOURCE = Path(os.environ.get("WISP_SOURCE", Path(__file__).resolve().parents[2]))
SHARED = Path(os.environ.get("WISP_SHARED", SOURCE.parent / "shared"))
WORK = Path(os.environ.get("WISP_WORK", SOURCE / "build" / "testwork"))
WISP_BIN = Path(os.environ.get("WISP_BIN", SOURCE / "build" / "wisp"))
ORACLE_DUMP = Path(os.environ.get("WISP_ORACLE_DUMP", SOURCE / "build" / "tests" / "wisp_oracle_dump"))
PYTHON = "/usr/bin/python3"

sys.path.insert(0, str(SOURCE / "tests" / "reference"))
sys.path.insert(0, str(SOURCE / "tools"))


def shared_file(relative: str) -> Path:
    """A file under ../shared, or skip the test with a clear reason."""
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"{path} is missing (../shared holds the test clips and assets)")
    return path


def work_dir(name: str) -> Path:
    path = WORK / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def make_model(size: str = "tiny", fmt: str = "hf", dtype: str = "f32", seed: int = 0, extra=()) -> Path:
    """Path of a random-weight model generated once per build tree (an HF directory, or the
    ggml file inside it for fmt="ggml"). Generation writes to a temporary name and renames, so
    concurrent tests never see half a model."""
    shared_file("assets/multilingual.tiktoken")
    written = "hf" if dtype == "bf16" else "both"  # whisper.cpp's converter writes no bf16 files
    # The generator's own source is part of the key: a changed generator means new models.
    generator = hashlib.sha1(b"".join(p.read_bytes() for p in sorted((SOURCE / "tools").glob("*.py"))))
    key = "-".join([size, written, dtype, f"s{seed}", *[str(e).lstrip("-") for e in extra],
                    generator.hexdigest()[:10]])
    target = WORK / "models" / key
    if not (target / "done").exists():
        tmp = WORK / "models" / f".{key}.{uuid.uuid4().hex}"
        subprocess.run([PYTHON, str(SOURCE / "tools" / "make_test_model.py"), "--size", size, "--format", written,
                        "--dtype", dtype, "--seed", str(seed), "--out", str(tmp),
                        "--assets", str(SHARED / "assets"), *map(str, extra)],
                       check=True, stdout=subprocess.DEVNULL)
        (tmp / "done").write_text("ok\n")
        try:
            tmp.rename(target)
        except OSError:  # another test won the race
            shutil.rmtree(tmp, ignore_errors=True)
    return target / "ggml-model.bin" if fmt == "ggml" else target


def run_wisp(*args, input_bytes=None, timeout=600, env=None) -> subprocess.CompletedProcess:
    """Runs the wisp binary; `env` adds variables to this process's environment."""
    if not WISP_BIN.exists():
        pytest.fail(f"wisp binary not found at {WISP_BIN}; build first")
    return subprocess.run([str(WISP_BIN), *map(str, args)], input=input_bytes, capture_output=True,
                          timeout=timeout, env=None if env is None else {**os.environ, **env})


def run_oracle_dump(*args, timeout=600) -> subprocess.CompletedProcess:
    result = subprocess.run([str(ORACLE_DUMP), *map(str, args)], capture_output=True, timeout=timeout)
    if result.returncode != 0:
        raise AssertionError(f"wisp_oracle_dump {' '.join(map(str, args))} failed:\n"
                             f"{result.stderr.decode(errors='replace')}")
    return result

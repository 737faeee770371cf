"""Programs a test runs in a process of its own, as a user runs them: output captured as text,
the exit status left for the test to assert."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path


def run_process(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(argv),
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_module(
    module: str,
    *args: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """``python -m MODULE ARGS`` with this interpreter (pinner, pre_commit, benchmarks.run)."""
    return run_process([sys.executable, "-m", module, *args], cwd=cwd, env=env, timeout=timeout)


def holding_open(path: Path) -> subprocess.Popen[bytes]:
    """Another process that holds ``path`` open for writing (an editor, a formatter) until its
    standard input is closed; returned once it has the file open."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; f = open(sys.argv[1], 'ab'); sys.stdin.read()", path],
        stdin=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while not _holds_open(holder.pid, path.resolve()):
        assert time.monotonic() < deadline, f"{path} was never opened by the holder"
        time.sleep(0.01)
    return holder


def release(holder: subprocess.Popen[bytes]) -> None:
    """End a ``holding_open`` process."""
    assert holder.stdin is not None
    holder.stdin.close()
    holder.wait(timeout=10)


def _holds_open(pid: int, path: Path) -> bool:
    # Its descriptors come and go while it starts: one listed may be closed before it is read.
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if os.readlink(fd) == str(path):
                return True
        except OSError:
            continue
    return False

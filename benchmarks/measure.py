"""Timing, memory and machine facts for the benchmarks."""

from __future__ import annotations

import contextlib
import io
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple


def median_seconds(action: Callable[[], object], repeats: int, warmup: int = 0) -> float:
    """The median wall time of ``repeats`` calls of ``action`` (after ``warmup`` untimed ones)."""
    for _ in range(warmup):
        action()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def settled_copy(source: Path, target: Path) -> None:
    """Copy a tree for a run that writes to it, then flush the copy to disk.

    A fresh copy leaves megabytes of dirty pages behind, and the filesystem is busy writing
    them back for a while: a pin timed right after it would pay for the benchmark's own setup
    (creating a file takes two to three times as long then, and pin's sync flushes the copy too).
    """
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, symlinks=True)
    # The shared corpus is read-only, and pinner leaves read-only files alone (root too): the
    # copy is made writable, as a checkout is.
    for path in [target, *target.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | 0o200)
    os.sync()


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


@contextlib.contextmanager
def silenced() -> Iterator[None]:
    """Swallow what an in-process pinner run prints."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


# Every module a timed child may import (typer._adapters: typer 0.29's pydantic layer).
WARM_UP = """
import contextlib, importlib
for name in (
    "httpx", "pinner.cli", "pinner.registry.client", "pinner.registry.resolver", "typer._adapters"
):
    with contextlib.suppress(ImportError):
        importlib.import_module(name)
"""
_warmed: set[Path] = set()


def child_env(pycache: Path) -> dict[str, str]:
    """The environment for child pythons: compiled modules cached, as in an installed pinner.

    ``PYTHONDONTWRITEBYTECODE`` would make every start-up compile pinner from source, which no
    installed copy does. The cache goes to ``pycache`` instead of the source tree, and is filled
    once before anything is timed (the prefix applies to every module, the standard library's
    too).
    """
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    env["NO_COLOR"] = "1"
    repo = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [repo, env.get("PYTHONPATH")]))
    if pycache not in _warmed:
        subprocess.run([sys.executable, "-c", WARM_UP], env=env, check=True)
        _warmed.add(pycache)
    return env


class ChildRun(NamedTuple):
    seconds: float  # wall time
    code: int
    peak_rss: int  # bytes, of that child alone
    stderr: str
    cpu_seconds: float = 0.0  # user and system time of that child


def run_child(
    command: Sequence[str], env: dict[str, str], allowed: tuple[int, ...] = (0, 1)
) -> ChildRun:
    """Run ``command`` with its output discarded; its exit status must be one of ``allowed``."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert process.stderr is not None
    stderr = process.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = code = os.waitstatus_to_exitcode(status)
    if code not in allowed:
        raise RuntimeError(f"{' '.join(command)} exited {code}: {stderr[-2000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return ChildRun(seconds, code, usage.ru_maxrss * 1024, stderr, cpu)  # ru_maxrss: KiB


def alternating_medians(
    commands: Sequence[Sequence[str]], env: dict[str, str], repeats: int
) -> list[float]:
    """Median wall time of each command, run in turns so that load drifts hit all alike."""
    times: list[list[float]] = [[] for _ in commands]
    for command in commands:  # warm the page cache and the compiled-module cache
        run_child(command, env)
    for _ in range(repeats):
        for index, command in enumerate(commands):
            times[index].append(run_child(command, env).seconds)
    return [statistics.median(series) for series in times]


def process_cpu_seconds(pid: int) -> float:
    """User and system CPU time another process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine() -> list[str]:
    """What the figures ran on."""
    import _ruamel_yaml
    import ruamel.yaml

    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return [
        f"CPU: {model}, {os.cpu_count()} cores; load average at the start: {load}",
        f"Python {platform.python_version()} ({sys.executable}), {platform.platform()}",
        f"ruamel.yaml {ruamel.yaml.__version__}, libyaml {_ruamel_yaml.get_version_string()} "
        "(ruamel.yaml.clib)",
    ]

"""Benchmarks that need a fresh process: start-up time and peak memory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from benchmarks.common import Sizes, Summary, Table, ratio
from benchmarks.measure import ChildRun, alternating_medians, child_env, run_child
from benchmarks.synth import PINNED_DIGEST, image_pool, pinned, write_big_manifest, write_tree
from pinner.settings import DEFAULT_MAX_FILE_BYTES
from pinner.sizes import format_size

SMALL_MANIFEST = f"""\
# a commit touches one manifest; the hook checks it
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: web
        image: ghcr.io/example/web@{PINNED_DIGEST}
"""
CHECK = [sys.executable, "-m", "pinner", "check"]
FLOOR = "python -c 'import typer, ruamel.yaml' (the floor pinner's dependencies set)"
# The memory table reads a stream over pinner's default limit with the limit raised to this.
RAISED_LIMIT = "64M"
# `python -m pinner ARGS` that reports its own peak RSS (VmHWM) on exit. The kernel's ru_maxrss
# of a child also counts the memory of the parent it was forked from (this big benchmark).
PEAK_RSS = """
import atexit, resource, runpy, sys
def report():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                sys.__stderr__.write(f"\\nPEAK_RSS_KB {line.split()[1]}\\n")
    # The largest of the processes it waited for: its file-reading workers (and git).
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    sys.__stderr__.write(f"\\nWORKER_PEAK_RSS_KB {children}\\n")
atexit.register(report)
sys.argv = ["pinner", *sys.argv[1:]]
runpy.run_module("pinner", run_name="__main__", alter_sys=True)
"""


def startup(sizes: Sizes, work: Path, summary: Summary) -> Table:
    manifest = work / "hook" / "deployment.yaml"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(SMALL_MANIFEST, encoding="utf-8")
    installed = install_like_a_hook(work / "hook-venv") if sizes.installed_startup else None
    if installed is not None:
        python, pinner = str(installed / "bin" / "python"), [str(installed / "bin" / "pinner")]
        env = installed_env()
        where = (
            "a fresh virtualenv with pinner installed from this checkout as pre-commit installs "
            "a hook (`pip install .`, not editable)"
        )
    else:
        python, pinner = sys.executable, [sys.executable, "-m", "pinner"]
        env = child_env(work / "pycache")
        where = f"{sys.executable} running this checkout (no virtualenv was made)"
    commands = {
        "python -c pass": [python, "-c", "pass"],
        "python -c 'import ruamel.yaml'": [python, "-c", "import ruamel.yaml"],
        "python -c 'import typer'": [python, "-c", "import typer"],
        FLOOR: [
            python,
            "-c",
            "import typer, ruamel.yaml",
        ],
        "pinner check deployment.yaml": [*pinner, "check", str(manifest)],
    }
    medians = dict(
        zip(
            commands,
            alternating_medians(list(commands.values()), env, sizes.startup_repeats),
            strict=True,
        )
    )
    baseline = medians["python -c pass"]
    floor = medians[FLOOR]
    table = Table(
        "Start-up: one small manifest, as a commit hook runs it",
        ["command", "median wall ms", "× python -c pass", "× the floor"],
    )
    for label, seconds in medians.items():
        table.add(
            label, f"{seconds * 1000:.0f}", ratio(seconds, baseline), f"{seconds / floor:.2f}×"
        )
    table.notes.append(
        f"Medians of {sizes.startup_repeats} runs of each command, taken in turns, in {where}."
    )
    pinner_seconds = medians["pinner check deployment.yaml"]
    summary.add(
        "start-up ≤4× python -c pass",
        f"{ratio(pinner_seconds, baseline)} (importing typer and ruamel.yaml alone: "
        f"{ratio(floor, baseline)})",
        pinner_seconds <= 4 * baseline,
    )
    # The floor is what pinner's dependencies cost to import; what pinner adds is its own.
    summary.add(
        "start-up ≤1.2× python -c 'import typer, ruamel.yaml'",
        f"{pinner_seconds / floor:.2f}×",
        pinner_seconds <= 1.2 * floor,
    )
    return table


def install_like_a_hook(venv: Path) -> Path | None:
    """A virtualenv with pinner installed from this checkout, or None if pip cannot do it."""
    repo = Path(__file__).resolve().parent.parent
    if not (venv / "bin" / "pinner").exists():
        try:
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run(
                [
                    str(venv / "bin" / "python"),
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "--disable-pip-version-check",
                    str(repo),
                ],
                check=True,
                capture_output=True,
                timeout=600,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            print(f"benchmarks: no virtualenv for the start-up figures ({exc})", file=sys.stderr)
            return None
    return venv


def installed_env() -> dict[str, str]:
    """The environment of an installed pinner: nothing points Python at this checkout."""
    dropped = {"PYTHONPATH", "PYTHONPYCACHEPREFIX", "PYTHONDONTWRITEBYTECODE", "PYTHONHOME"}
    env = {key: value for key, value in os.environ.items() if key not in dropped}
    env["NO_COLOR"] = "1"
    return env


def memory(sizes: Sizes, work: Path, tree: Path, summary: Summary) -> Table:
    """Peak RSS of ``pinner check`` on one small file, big streams, a tree, and both."""
    env = child_env(work / "pycache")
    folder = work / "memory"
    folder.mkdir(parents=True, exist_ok=True)
    tiny = folder / "tiny.yaml"
    tiny.write_text(SMALL_MANIFEST, encoding="utf-8")
    streams = []
    for size in sizes.memory_streams:
        stream = folder / f"stream-{size}.yaml"
        write_big_manifest(stream, size, image_pool(300))
        streams.append(stream)
    tree_files = sorted(tree.rglob("*.yaml"))
    command = [sys.executable, "-c", PEAK_RSS, "check", "--no-config", "--quiet"]
    base = peak_rss(run_child([*command, str(tiny)], env))
    table = Table(
        "Memory: peak RSS of `pinner check`",
        [
            "input",
            "MB read",
            "largest file MB",
            "peak RSS MB",
            "above start-up MB",
            "largest worker's peak RSS MB",
            "note",
        ],
    )
    table.add("one small manifest (start-up)", "0.0", "0.0", f"{base / 1e6:.0f}", "0", "-", "")
    largest_read = tiny
    peaks: dict[str, int] = {}
    for stream in streams:
        limit = limit_flags(stream)
        run = run_child([*command, *limit, str(stream)], env, (0, 1, 2))
        refused = "larger than" in run.stderr
        if not refused and stream.stat().st_size > largest_read.stat().st_size:
            largest_read = stream
        peaks[stream.name] = peak_rss(run)
        megabytes = stream.stat().st_size / 1e6
        if refused:
            note = "refused unread: larger than pinner reads"
        else:
            note = f"read with {' '.join(limit)}" if limit else ""
        table.add(
            f"{round(megabytes, 1):g} MB multi-document manifest",
            f"{megabytes:.1f}",
            f"{megabytes:.1f}",
            f"{peaks[stream.name] / 1e6:.0f}",
            f"{(peaks[stream.name] - base) / 1e6:.0f}",
            "-",  # one file: read in this process
            note,
        )
    tree_size = sum(file.stat().st_size for file in tree_files)
    tree_run = run_child([*command, str(tree)], env)
    tree_peak, tree_workers = peak_rss(tree_run), worker_peak_rss(tree_run)
    pinned_tree = folder / "pinned-tree"
    write_tree(pinned_tree, len(tree_files), pinned(image_pool(300)), seed=7)
    pinned_run = run_child([*command, str(pinned_tree)], env)
    pinned_peak, pinned_workers = peak_rss(pinned_run), worker_peak_rss(pinned_run)
    both_limit = limit_flags(largest_read)
    both = [*command, *both_limit, str(tree), str(largest_read)]
    both_run = run_child(both, env)
    both_peak, both_workers = peak_rss(both_run), worker_peak_rss(both_run)
    largest_tree_file = max(file.stat().st_size for file in tree_files)
    largest = largest_read.stat().st_size
    table.add(
        f"tree of {len(tree_files)} files",
        f"{tree_size / 1e6:.1f}",
        f"{largest_tree_file / 1e6:.1f}",
        f"{tree_peak / 1e6:.0f}",
        f"{(tree_peak - base) / 1e6:.0f}",
        _megabytes(tree_workers),
        "",
    )
    table.add(
        f"tree of {len(tree_files)} files, every image pinned",
        f"{tree_size / 1e6:.1f}",
        f"{largest_tree_file / 1e6:.1f}",
        f"{pinned_peak / 1e6:.0f}",
        f"{(pinned_peak - base) / 1e6:.0f}",
        _megabytes(pinned_workers),
        "nothing to report",
    )
    table.add(
        f"the same tree and the {round(largest / 1e6, 1):g} MB manifest",
        f"{(tree_size + largest) / 1e6:.1f}",
        f"{max(largest, largest_tree_file) / 1e6:.1f}",
        f"{both_peak / 1e6:.0f}",
        f"{(both_peak - base) / 1e6:.0f}",
        _megabytes(both_workers),
        f"read with {' '.join(both_limit)}" if both_limit else "",
    )
    alone = peaks.get(largest_read.name, base)
    # Worker processes read a large tree's files: the largest process is what must stay small.
    pinned_extra = max(pinned_peak, pinned_workers) - base
    both_extra = max(both_peak, both_workers) - alone
    files = len(tree_files)
    summary.add(
        "memory follows the largest file, not the tree",
        f"{(alone - base) / largest:.1f} bytes per byte of the largest file read "
        f"({largest / 1e6:.0f} MB); a {tree_size / 1e6:.0f} MB tree of {files} files adds "
        f"{pinned_extra / 1e6:.0f} MB when all is pinned ({pinned_extra / files:.0f} bytes per "
        f"file: the file list), {(tree_peak - base) / 1e6:.0f} MB with its report of unpinned "
        "images",
        pinned_extra < 1000 * files + 5e6 and both_extra < 0.5 * tree_size + 5e6,
    )
    table.notes.append(
        "Peak RSS (VmHWM, read by the child as it exits) of `python -m pinner check --quiet`, "
        "output discarded; 'above start-up' subtracts the run on one small manifest. check "
        "reads one file, and one document, at a time and keeps only what it reports: what grows "
        "with the tree is the list of its files and of its unpinned images. A tree of many "
        "files is read by worker processes, one per CPU, forked from pinner (so their RSS "
        "counts the pages they share with it); the worker column is the largest of them "
        "(getrusage of the children pinner waited for). By default pinner "
        f"refuses files over {format_size(DEFAULT_MAX_FILE_BYTES)} unread; the rows that read a "
        f"larger manifest raise that limit with --max-file-size {RAISED_LIMIT} (see their note)."
    )
    return table


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.0f}" if size else "-"


def limit_flags(path: Path) -> list[str]:
    """``--max-file-size 64M`` for a file over pinner's default limit, else nothing."""
    if path.stat().st_size <= DEFAULT_MAX_FILE_BYTES:
        return []
    return ["--max-file-size", RAISED_LIMIT]


def peak_rss(run: ChildRun) -> int:
    """The peak RSS in bytes the child reported, else what the kernel counted."""
    for line in reversed(run.stderr.splitlines()):
        if line.startswith("PEAK_RSS_KB "):
            return int(line.split()[1]) * 1024
    return run.peak_rss


def worker_peak_rss(run: ChildRun) -> int:
    """The peak RSS in bytes of the largest process the child waited for (0 if none)."""
    for line in reversed(run.stderr.splitlines()):
        if line.startswith("WORKER_PEAK_RSS_KB "):
            return int(line.split()[1]) * 1024
    return 0

"""Benchmarks that need a fresh process: start-up time and peak memory."""

from __future__ import annotations

import sys
from pathlib import Path

from benchmarks.common import Sizes, Summary, Table, ratio
from benchmarks.measure import ChildRun, alternating_medians, child_env, megabytes, run_child
from benchmarks.synth import PINNED_DIGEST, image_pool, write_big_manifest

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
# `python -m pinner ARGS` that reports its own peak RSS (VmHWM) on exit. The kernel's ru_maxrss
# of a child also counts the memory of the parent it was forked from (this big benchmark).
PEAK_RSS = """
import atexit, runpy, sys
def report():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                sys.__stderr__.write(f"\\nPEAK_RSS_KB {line.split()[1]}\\n")
atexit.register(report)
sys.argv = ["pinner", *sys.argv[1:]]
runpy.run_module("pinner", run_name="__main__", alter_sys=True)
"""


def startup(sizes: Sizes, work: Path, summary: Summary) -> Table:
    manifest = work / "hook" / "deployment.yaml"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(SMALL_MANIFEST, encoding="utf-8")
    env = child_env(work / "pycache")
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import typer' (the floor typer sets)": [sys.executable, "-c", "import typer"],
        "pinner check deployment.yaml": [*CHECK, str(manifest)],
    }
    medians = dict(
        zip(
            commands,
            alternating_medians(list(commands.values()), env, sizes.startup_repeats),
            strict=True,
        )
    )
    baseline = medians["python -c pass"]
    table = Table(
        "Start-up: one small manifest, as a commit hook runs it",
        ["command", "median wall ms", "× python -c pass"],
    )
    for label, seconds in medians.items():
        table.add(label, f"{seconds * 1000:.0f}", ratio(seconds, baseline))
    table.notes.append(
        f"Medians of {sizes.startup_repeats} runs of each command, taken in turns. Compiled "
        "modules are cached (PYTHONPYCACHEPREFIX), as they are for an installed pinner."
    )
    pinner = medians["pinner check deployment.yaml"]
    summary.add("start-up ≤4× python -c pass", ratio(pinner, baseline), pinner <= 4 * baseline)
    return table


def memory(sizes: Sizes, work: Path, tree: Path, summary: Summary) -> Table:
    """Peak RSS of ``pinner check`` on one small file, two big streams and a whole tree."""
    env = child_env(work / "pycache")
    folder = work / "memory"
    folder.mkdir(parents=True, exist_ok=True)
    tiny = folder / "tiny.yaml"
    tiny.write_text(SMALL_MANIFEST, encoding="utf-8")
    small, big = folder / "small.yaml", folder / "big.yaml"
    write_big_manifest(small, sizes.memory_small, image_pool(300))
    write_big_manifest(big, sizes.memory_big, image_pool(300))
    tree_files = sorted(tree.rglob("*.yaml"))
    inputs = {
        "one small manifest (start-up)": [tiny],
        f"{megabytes(small.stat().st_size)} multi-document manifest": [small],
        f"{megabytes(big.stat().st_size)} multi-document manifest": [big],
        f"tree of {len(tree_files)} files": [tree],
        f"the same tree and the {megabytes(big.stat().st_size)} manifest": [tree, big],
    }
    command = [sys.executable, "-c", PEAK_RSS, "check", "--no-config", "--quiet"]
    runs = {
        label: run_child([*command, *map(str, paths)], env, (0, 1, 2))
        for label, paths in inputs.items()
    }
    peaks = {label: peak_rss(run) for label, run in runs.items()}
    base = peaks["one small manifest (start-up)"]
    table = Table(
        "Memory: peak RSS of `pinner check`",
        ["input", "MB read", "largest file MB", "peak RSS MB", "above start-up MB", "note"],
    )
    for label, paths in inputs.items():
        files = [file for path in paths for file in (tree_files if path == tree else [path])]
        run = runs[label]
        refused = [line for line in run.stderr.splitlines() if "larger than" in line]
        table.add(
            label,
            f"{sum(file.stat().st_size for file in files) / 1e6:.1f}",
            f"{max(file.stat().st_size for file in files) / 1e6:.1f}",
            f"{peaks[label] / 1e6:.0f}",
            f"{(peaks[label] - base) / 1e6:.0f}",
            "pinner refused the big file: " + refused[0].split(": ", 2)[-1] if refused else "",
        )
    labels = list(inputs)
    tree_size = sum(file.stat().st_size for file in tree_files)
    tree_extra = peaks[labels[3]] - base
    both_extra = peaks[labels[4]] - peaks[labels[2]]
    summary.add(
        "memory follows the largest file, not the tree",
        f"tree of {megabytes(tree_size)}: +{tree_extra / 1e6:.0f} MB over start-up; tree and the "
        f"big file: +{both_extra / 1e6:.0f} MB over the big file alone",
        tree_extra < 0.25 * tree_size and both_extra < 0.25 * tree_size,
    )
    table.notes.append(
        "Peak RSS (VmHWM, read by the child as it exits) of `python -m pinner check --quiet`, "
        "output discarded; 'above start-up' subtracts the run on one small manifest."
    )
    return table


def peak_rss(run: ChildRun) -> int:
    """The peak RSS in bytes the child reported, else what the kernel counted."""
    for line in reversed(run.stderr.splitlines()):
        if line.startswith("PEAK_RSS_KB "):
            return int(line.split()[1]) * 1024
    return run.peak_rss

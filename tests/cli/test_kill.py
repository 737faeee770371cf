"""SIGKILL at random moments while pinning a tree of 1,000 files.

Each run is ``python -m pinner pin --offline --digests ...`` on the tree, killed with SIGKILL
after a random delay that mostly falls while files are being written. After every kill, every
file must be byte for byte either the original or the fully pinned file: never truncated, never
half-written, never empty. Temporary copies have no name until just before their rename
(O_TMPFILE), so a kill leaves at most the one being renamed: hidden, ending in ``.pinner-tmp``,
never read as a manifest (checked with the walk itself), and removed by the next run that writes
in its folder. After the last kill, a final run pins everything and leaves no file of pinner's.

``PINNER_KILL_RUNS`` (default 30) and ``PINNER_KILL_SEED`` size and replay a run.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import NamedTuple

import pytest

from pinner.manifests.walk import discover

FILES = 1000
TEMPORARY_RE = re.compile(r"\.(.+)\.[a-z0-9_]{8}\.pinner-tmp")
KILLS = int(os.environ.get("PINNER_KILL_RUNS", "30"))
SEED = int(os.environ.get("PINNER_KILL_SEED", str(random.SystemRandom().randrange(10**6))))
DEPLOYMENT = """\
# service {index}: a comment that must survive
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{index}
spec:
  template:
    spec:
      initContainers:
      - name: init
        image: "busybox:1.36"
      containers:
      - name: app
        image: registry.example/team/app-{index}:v{index}  # pinned by the test
        args: ["--port", "80{index:02}"]
"""


def digest_of(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


class Tree(NamedTuple):
    root: Path
    digests: Path
    original: dict[Path, bytes]
    pinned: dict[Path, bytes]


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Tree:
    base = tmp_path_factory.mktemp("kill")
    root = base / "k8s"
    lines = [f"busybox:1.36@{digest_of('busybox')}"]
    original, pinned = {}, {}
    for index in range(FILES):
        path = root / f"team-{index % 20:02}" / f"app-{index}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        text = DEPLOYMENT.format(index=index)
        image = f"registry.example/team/app-{index}"
        digest = digest_of(image)
        lines.append(f"{image}:v{index}@{digest}")
        path.write_text(text, encoding="utf-8")
        original[path] = text.encode()
        pinned[path] = (
            text.replace(f"{image}:v{index}", f"{image}@{digest}")
            .replace('"busybox:1.36"', f'"busybox@{digest_of("busybox")}"')
            .encode()
        )
    digests = base / "digests.txt"
    digests.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Tree(root, digests, original, pinned)


def start(tree: Tree, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "pinner", "pin", "--no-config", "--quiet", *extra),
            *("--offline", "--digests", str(tree.digests), str(tree.root)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1"},
    )


def survey(tree: Tree) -> tuple[int, list[Path], list[Path]]:
    """(files pinned, files neither original nor pinned, other files in the tree)."""
    pinned, broken = 0, []
    for path, original in tree.original.items():
        data = path.read_bytes()
        if data == tree.pinned[path]:
            pinned += 1
        elif data != original:
            broken.append(path)
    others = [p for p in tree.root.rglob("*") if p.is_file() and p not in tree.original]
    return pinned, broken, others


def reset(tree: Tree) -> None:
    for path, original in tree.original.items():
        if path.read_bytes() != original:
            path.write_bytes(original)


def timed_run(tree: Tree, *extra: str) -> float:
    started = time.monotonic()
    process = start(tree, *extra)
    _, err = process.communicate(timeout=300)
    assert process.returncode in (0, 1), err.decode()
    return time.monotonic() - started


def test_sigkill_leaves_every_file_original_or_fully_pinned(tree: Tree) -> None:
    rng = random.Random(SEED)
    # Calibrate on this machine: how long until writing starts (a dry run), and a whole run.
    scanning = timed_run(tree, "--dry-run")
    whole = timed_run(tree)
    assert survey(tree) == (FILES, [], [])
    reset(tree)

    outcomes: Counter[str] = Counter()
    leftovers: set[Path] = set()
    for _ in range(KILLS):
        process = start(tree)
        time.sleep(rng.uniform(0.8 * scanning, 1.05 * whole))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        pinned, broken, others = survey(tree)
        assert broken == [], f"seed {SEED}: corrupted {broken[:5]}"
        for other in others:
            # What a kill may leave: `.NAME.XXXXXXXX.pinner-tmp`, beside the file it was for.
            temporary = TEMPORARY_RE.fullmatch(other.name)
            assert temporary is not None, other
            assert other.parent / temporary.group(1) in tree.original, other
        # The copy being renamed when the kill came; earlier runs' were removed as this one
        # wrote in their folders (or are still there, if it was killed before writing there).
        assert len(set(others) - leftovers) <= 1, f"seed {SEED}: {sorted(others)[:5]}"
        leftovers.update(others)
        if process.returncode == -signal.SIGKILL:
            if pinned == 0:
                outcomes["killed before writing"] += 1
            elif pinned < FILES:
                outcomes["killed while writing"] += 1
            else:
                outcomes["killed after writing"] += 1
        else:
            outcomes["finished before the kill"] += 1
        reset(tree)

    # The walk never lists what the kills left behind, and a new run pins everything.
    listed = {path.resolve() for _, path in discover([str(tree.root)])}
    assert listed == {path.resolve() for path in tree.original}
    timed_run(tree)
    assert survey(tree) == (FILES, [], []), "pinner's leftovers are still in the tree"
    print(
        f"\nkill test (seed {SEED}): {KILLS} SIGKILLs over {FILES} files "
        f"(scan {scanning:.2f}s, whole run {whole:.2f}s): {dict(outcomes)}; "
        f"temporary files seen after a kill: {len(leftovers)}, after the final run: 0; "
        "files corrupted: 0"
    )
    assert outcomes["killed while writing"] > 0, "no kill landed while files were being written"

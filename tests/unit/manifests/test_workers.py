"""Reading a large tree in worker processes changes nothing but the speed.

``pinner.manifests.workers`` forks processes that read the files of a tree of 128 files or more.
These tests prove that:

- ``worker_count`` picks one process (this one) whenever workers cannot or should not be used,
  and otherwise one per CPU, capped by ``--jobs`` and by the size of the tree;
- the scans read in workers equal, in order and in every field, the scans read in this process,
  for every kind of file pinner meets (pinned and unpinned images, templates, files too large,
  undecodable or unparsable, invalid references, custom resources read through a rule);
- ``pinner check`` and ``pinner pin`` print the same reports, exit with the same codes, and leave
  byte-identical trees with ``--jobs 1`` and ``--jobs 2``;
- a worker that dies does not lose a file, and a caller that stops reading early is not kept
  waiting and leaves no process behind;
- scans keep their text only when something may be written (``keep_sources``), and planning a
  scan that kept no text still tells "no image" from "could not be read".

pytest may have other threads running (the registry fixtures' HTTP servers), so ``can_fork`` can
be False here: the tests that need workers patch it, and prove workers ran by recording the pid
of every process that read a file.
"""

from __future__ import annotations

import errno
import json
import multiprocessing
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import pinner.manifests.scan
import pinner.manifests.workers
from pinner.kinds import Rule
from pinner.manifests.files import SourceFile
from pinner.manifests.scan import (
    FILES_PER_WORKER,
    PARALLEL_MIN_BYTES,
    PARALLEL_MIN_FILES,
    FileReader,
    FileScan,
    Target,
    estimated_bytes,
    iter_scans,
    workers_for,
)
from pinner.manifests.walk import discover_names
from pinner.manifests.workers import MAX_DEFAULT_WORKERS, can_fork, parallel_map, worker_count
from pinner.planning import PinOptions, plan_file
from tests.support.cli import run_cli

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64
C = "sha256:" + "c" * 64
D = "sha256:" + "d" * 64
# Every tag image of the tree but one: `pin` pins most files and leaves the others failing.
DIGESTS = f"nginx:1.25@{A}\nredis:7@{B}\nbusybox:1.36@{C}\nexample.com/team/widget:3@{D}\n"
TAG_IMAGES = ("nginx:1.25", "redis:7", "busybox:1.36", "ghcr.io/acme/unknown:2")
MAX_BYTES = 4096
RULES = (Rule("Widget", images=(("spec", "image"),)),)

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  template:
    spec:
      initContainers:
        - name: init
          image: {init}
      containers:
        - name: app
          image: {image}
"""
POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  containers:
    - name: app
      image: {image}
"""
CRONJOB = """\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: job
              image: 'busybox:1.36'
          restartPolicy: OnFailure
"""
SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  ports:
    - port: 80
"""
CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
"""
WIDGET = """\
apiVersion: example.com/v1
kind: Widget
metadata:
  name: gadget
spec:
  image: example.com/team/widget:3
"""


@dataclass(frozen=True)
class Tree:
    """The tree's folder and the display names of the files that exercise each outcome."""

    root: Path
    errors: frozenset[str]  # could not be read, decoded or parsed
    invalid: frozenset[str]  # an image that is not a reference
    notices: frozenset[str]  # skipped templates


def make_tree(root: Path) -> Tree:
    """About 300 manifests of every kind, in nested folders (so the order is a real walk's)."""

    def write(name: str, data: str | bytes) -> str:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return os.path.join(root, name)

    number = 0
    for team in range(10):
        for index in range(25):
            number += 1
            # One image in seven is pinned already; the others cycle through the tag images.
            image = f"nginx@{A}" if number % 7 == 0 else TAG_IMAGES[number % len(TAG_IMAGES)]
            init = f'"redis:7@{B}"' if number % 5 == 0 else "busybox:1.36"
            text = DEPLOYMENT.format(name=f"d{number}", image=image, init=init)
            write(f"apps/team-{team:02}/deploy-{index:02}.yaml", text)
    for index in range(20):
        documents = [
            DEPLOYMENT.format(name=f"m{index}", image="nginx:1.25", init="redis:7"),
            SERVICE.format(name=f"m{index}"),
            POD.format(name=f"p{index}", image=TAG_IMAGES[index % len(TAG_IMAGES)]),
        ]
        write(f"multi/multi-{index:02}.yml", "---\n".join(documents))
    for index in range(10):
        write(
            f"config/cm-{index}.yaml", f"apiVersion: v1\nkind: ConfigMap\ndata:\n  n: '{index}'\n"
        )
    write("jobs/cronjob.yaml", CRONJOB)
    write("crds/widget-crd.yaml", CRD)
    write("crds/widget.yaml", WIDGET)  # its image is found only through RULES
    write(
        "json/pod.json",
        json.dumps({"kind": "Pod", "spec": {"containers": [{"name": "j", "image": "redis:7"}]}}),
    )
    write("bom/pod.yaml", "\ufeff" + POD.format(name="bom", image="nginx:1.25"))
    write("empty.yaml", "")
    errors = {
        write("broken/invalid.yaml", POD.format(name="bad", image="[nginx")),
        write(
            "broken/latin1.yaml", POD.format(name="caf\xe9", image="nginx:1.25").encode("latin-1")
        ),
        # Larger than MAX_BYTES, but otherwise a good manifest.
        write("big/large.yaml", POD.format(name="big", image="nginx:1.25") + "# padding\n" * 500),
    }
    invalid = {
        write("broken/uppercase.yaml", POD.format(name="up", image='"Nginx:latest"')),
        write("broken/empty-tag.yaml", POD.format(name="et", image='"nginx:"')),
    }
    notices = {
        write(
            "charts/app/templates/deployment.yaml",
            POD.format(name="t", image="{{ .Values.image }}"),
        ),
    }
    return Tree(root, frozenset(errors), frozenset(invalid), frozenset(notices))


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    return make_tree(tmp_path / "tree")


@pytest.fixture
def forking(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers allowed, whatever threads pytest runs (the tree's reading code starts none), and
    for the test tree, which has the files but not the bytes of a tree that gets workers."""
    monkeypatch.setattr(pinner.manifests.workers, "can_fork", lambda: True)
    monkeypatch.setattr(pinner.manifests.scan, "PARALLEL_MIN_BYTES", 0)


@pytest.fixture
def reader_pids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[], set[int]]:
    """The pids of the processes that read files so far: forked workers inherit the patch."""
    folder = tmp_path / "pids"
    folder.mkdir()
    original = pinner.manifests.scan.scan_source

    def recording(
        display: str, read: Callable[[], SourceFile], rules: Sequence[Rule], *args: Any
    ) -> FileScan:
        (folder / str(os.getpid())).touch()
        return original(display, read, rules, *args)

    monkeypatch.setattr(pinner.manifests.scan, "scan_source", recording)
    return lambda: {int(path.name) for path in folder.iterdir()}


def comparable(scan: FileScan) -> tuple[object, ...]:
    """Every field of a scan, with its errors as (type, message): exceptions compare by identity."""
    return (
        scan.display,
        scan.source,  # a frozen dataclass: display, path, raw bytes, text and BOM
        [
            (site, reference, None if error is None else (type(error), str(error)))
            for site, reference, error in scan.images
        ],
        None if scan.error is None else (type(scan.error), str(scan.error)),
        scan.skipped,
    )


def targets_of(root: Path) -> list[Target]:
    return list(discover_names([str(root)]))


@pytest.fixture
def forked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pid of every process forked from now on (the pool forks its workers in this thread)."""
    pids: list[int] = []
    start = multiprocessing.context.ForkProcess.start

    def recording(process: multiprocessing.context.ForkProcess) -> None:
        start(process)
        assert process.pid is not None
        pids.append(process.pid)

    monkeypatch.setattr(multiprocessing.context.ForkProcess, "start", recording)
    return pids


def still_running(pids: list[int]) -> list[int]:
    """The processes among ``pids`` that have not exited, each given 30 s to exit on its own.

    Asked of the kernel through a pidfd, not through ``multiprocessing.active_children()``: the
    pool's own thread reaps its workers too, and a process reaped by one thread while another
    polls it looks alive to the other.
    """
    running = []
    for pid in pids:
        try:
            handle = os.pidfd_open(pid)
        except ProcessLookupError:
            continue  # exited and reaped
        try:
            exited, _, _ = select.select([handle], [], [], 30)  # readable once it has exited
        finally:
            os.close(handle)
        if not exited:
            running.append(pid)
    return running


# --- how many processes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("jobs", "files", "cpus", "expected"),
    [
        (1, 10_000, 8, 1),  # --jobs 1: this process reads every file
        (None, PARALLEL_MIN_FILES - 1, 8, 1),  # too few files to pay for a fork
        (None, PARALLEL_MIN_FILES, 8, PARALLEL_MIN_FILES // FILES_PER_WORKER),
        (None, 300, 8, 300 // FILES_PER_WORKER),  # no worker gets fewer than 64 files
        (None, 10_000, 8, 8),  # one per CPU
        (None, 100_000, 64, MAX_DEFAULT_WORKERS),  # pinner's own choice stops at 8
        (64, 100_000, 64, 64),  # --jobs may ask for more
        (None, 10_000, 1, 1),  # one CPU: no worker
        (3, 10_000, 8, 3),  # --jobs caps it
        (16, 10_000, 8, 16),  # --jobs is obeyed above the CPU count
        (100, 300, 8, 300 // FILES_PER_WORKER),  # and is capped by the tree's size
        (0, 10_000, 8, 1),  # never below one process
    ],
)
def test_worker_count(
    monkeypatch: pytest.MonkeyPatch, jobs: int | None, files: int, cpus: int, expected: int
) -> None:
    monkeypatch.setattr(pinner.manifests.workers, "can_fork", lambda: True)
    monkeypatch.setattr(pinner.manifests.workers, "usable_cpus", lambda: cpus)
    assert worker_count(jobs, files, FILES_PER_WORKER) == expected


def test_a_tree_of_small_files_is_read_without_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many files, but too few bytes to pay for forking: the size decides, estimated by sample."""
    monkeypatch.setattr(pinner.manifests.workers, "can_fork", lambda: True)
    monkeypatch.setattr(pinner.manifests.workers, "usable_cpus", lambda: 2)
    files = 2 * PARALLEL_MIN_FILES
    light = [(f"l{index}", str(tmp_path / f"l{index}.yaml")) for index in range(files)]
    for _, name in light:
        Path(name).write_bytes(b"x" * 100)
    heavy = [(f"h{index}", str(tmp_path / f"h{index}.yaml")) for index in range(files)]
    for _, name in heavy:
        Path(name).write_bytes(b"x" * (PARALLEL_MIN_BYTES // files + 1))
    assert estimated_bytes(light) == 100 * files
    assert estimated_bytes(heavy) >= PARALLEL_MIN_BYTES
    assert workers_for(light, None) == 1
    assert workers_for(heavy, None) == 2
    assert workers_for(heavy, 1) == 1
    # A file that has gone since it was listed does not count (its read reports it).
    assert estimated_bytes([("gone", str(tmp_path / "gone.yaml")), *light[:1]]) == 200


@pytest.mark.parametrize("jobs", [None, 4])
def test_no_workers_where_forking_is_unsafe(
    monkeypatch: pytest.MonkeyPatch, jobs: int | None
) -> None:
    monkeypatch.setattr(pinner.manifests.workers, "can_fork", lambda: False)
    monkeypatch.setattr(pinner.manifests.workers, "usable_cpus", lambda: 8)
    assert worker_count(jobs, 10_000, FILES_PER_WORKER) == 1


def test_a_threaded_process_does_not_fork() -> None:
    # Forking a process with another thread can deadlock the child (a lock held by that thread
    # stays held forever in the copy).
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert can_fork() is False
    finally:
        stop.set()
        thread.join()


# --- the same scans, read here or in workers ------------------------------------------------------


def test_workers_read_the_same_scans_in_the_same_order(
    tree: Tree, forking: None, reader_pids: Callable[[], set[int]]
) -> None:
    serial = list(iter_scans([str(tree.root)], RULES, max_bytes=MAX_BYTES, jobs=1))
    assert reader_pids() == {os.getpid()}
    parallel = list(iter_scans([str(tree.root)], RULES, max_bytes=MAX_BYTES, jobs=2))
    # Two workers read files (this process may read none): the comparison is not serial twice.
    assert len(reader_pids() - {os.getpid()}) == 2

    assert len(serial) >= PARALLEL_MIN_FILES
    assert [comparable(scan) for scan in parallel] == [comparable(scan) for scan in serial]
    # The tree exercises every outcome, so the equality above covers each of them.
    assert {scan.display for scan in serial if scan.error} == tree.errors
    assert {scan.display for scan in serial if scan.invalid} == tree.invalid
    assert {scan.display for scan in serial if scan.skipped} == tree.notices
    widget = next(scan for scan in serial if scan.display.endswith("crds/widget.yaml"))
    assert [site.image for site in widget.sites] == ["example.com/team/widget:3"]  # RULES arrived


def test_progress_counts_every_file_in_order_with_workers(tree: Tree, forking: None) -> None:
    calls: list[tuple[int, int]] = []
    scans = list(
        iter_scans(
            [str(tree.root)], progress=lambda *a: calls.append(a), max_bytes=MAX_BYTES, jobs=2
        )
    )
    total = len(scans)
    assert calls == [(done, total) for done in range(total + 1)]


# --- the same command output and the same files ---------------------------------------------------


def without_timing(stderr: str) -> str:
    # The summary line ends with the run's duration, e.g. "(0.03s)".
    return re.sub(r" \(\d+\.\d+s\)$", "", stderr, flags=re.MULTILINE)


def test_check_reports_the_same_with_workers(
    tree: Tree,
    forking: None,
    reader_pids: Callable[[], set[int]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tree.root.parent)
    monkeypatch.setenv("NO_COLOR", "1")
    reports = []
    for jobs in ("1", "2"):
        code, out, err = run_cli(
            capsys,
            "check",
            "--no-config",
            "--format",
            "json",
            "--max-file-size",
            str(MAX_BYTES),
            "--jobs",
            jobs,
            "tree",
        )
        report = json.loads(out)
        del report["summary"]["seconds"]
        reports.append((code, report, without_timing(err)))
    assert len(reader_pids() - {os.getpid()}) == 2
    assert reports[1] == reports[0]
    # What the tree holds was found: unpinned images (exit 1), and bad files (exit 2).
    code, report, err = reports[0]
    assert code == 2
    assert report["summary"] == {
        "files": 292,
        "references": 565,
        "not_pinned": 478,
        "already_pinned": 85,
        "exempt": 0,
        "failed": len(tree.invalid),
        "unreadable_files": len(tree.errors),
        "skipped": len(tree.notices),
    }
    assert len(report["errors"]) == len(tree.errors | tree.invalid)
    assert len(report["skipped"]) == len(tree.notices)
    assert err == (
        "pinner check: 292 files scanned, 565 references found: 478 not pinned, 85 already "
        "pinned, 0 exempt, 2 failed, 1 skipped; 3 files could not be read\n"
    )


def test_pin_writes_the_same_files_with_workers(
    tree: Tree,
    tmp_path: Path,
    forking: None,
    reader_pids: Callable[[], set[int]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    digests = tmp_path / "digests.txt"
    digests.write_text(DIGESTS)
    copies = {jobs: tmp_path / f"copy-{jobs}" for jobs in ("1", "2")}
    results = {}
    for jobs, copy in copies.items():
        shutil.copytree(tree.root, copy)
        # Run inside each copy so that both print the same file names.
        monkeypatch.chdir(copy)
        code, out, err = run_cli(
            capsys,
            "pin",
            "--offline",
            "--no-config",
            "--digests",
            str(digests),
            "--max-file-size",
            str(MAX_BYTES),
            "--jobs",
            jobs,
            ".",
        )
        results[jobs] = (code, out, without_timing(err))
    assert len(reader_pids() - {os.getpid()}) == 2
    assert results["2"] == results["1"]
    assert snapshot(copies["2"]) == snapshot(copies["1"])
    # Files were pinned (not both left as they were), and a file with an unknown image was not.
    assert results["1"][0] == 2
    assert (copies["1"] / "jobs/cronjob.yaml").read_text() == CRONJOB.replace(
        "'busybox:1.36'", f"'busybox@{C}'"
    )
    assert (
        snapshot(copies["1"])["apps/team-00/deploy-02.yaml"]
        == (tree.root / "apps/team-00/deploy-02.yaml").read_bytes()
    )


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


# --- scans keep their text only when it may be written --------------------------------------------


@pytest.mark.parametrize("jobs", [1, 2])
def test_keep_sources(tree: Tree, forking: None, jobs: int) -> None:
    kept = list(iter_scans([str(tree.root)], max_bytes=MAX_BYTES, jobs=jobs))
    dropped = list(iter_scans([str(tree.root)], max_bytes=MAX_BYTES, jobs=jobs, keep_sources=False))
    assert [scan.source for scan in dropped] == [None] * len(dropped)
    # Only files with images keep their text: nothing will be written to the others.
    assert [scan.display for scan in kept if scan.source is not None] == [
        scan.display for scan in kept if scan.sites
    ]
    # The text is all that is dropped.
    for scan in kept:
        scan.source = None
    assert [comparable(scan) for scan in dropped] == [comparable(scan) for scan in kept]


def test_a_scan_without_images_or_text_plans_nothing() -> None:
    plan = plan_file(FileScan("config.yaml"), {}, PinOptions())
    assert (plan.errors, plan.changes, plan.new_text, plan.tally.unreadable) == ([], [], None, 0)
    assert plan.tally.files == 1


def test_a_scan_with_images_but_no_text_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "pod.yaml"
    path.write_text(POD.format(name="p", image="nginx:1.25"))
    scan = FileReader((), MAX_BYTES)(("pod.yaml", str(path)))
    assert len(scan.sites) == 1
    scan.source = None
    plan = plan_file(scan, {("docker.io", "library/nginx", "1.25"): A}, PinOptions())
    assert [(type(error).__name__, str(error)) for error in plan.errors] == [
        ("ManifestError", "pod.yaml: could not be read.")
    ]
    assert (plan.changes, plan.new_text, plan.tally.unreadable) == ([], None, 1)


# --- a worker that dies, a caller that stops ------------------------------------------------------


@dataclass(frozen=True)
class DyingReader(FileReader):
    """Kills the worker process that reads ``fatal``; this process (``parent``) reads it fine.

    Defined at module level so that it pickles (by name) on its way to the workers.
    """

    parent: int = 0
    fatal: str = ""
    marker: str = ""  # touched by the worker just before it dies

    def __call__(self, target: Target) -> FileScan:
        if target[0] == self.fatal and os.getpid() != self.parent:
            Path(self.marker).touch()
            os._exit(1)
        return super().__call__(target)


def test_a_dead_worker_loses_no_file(
    tree: Tree, tmp_path: Path, reader_pids: Callable[[], set[int]], forked: list[int]
) -> None:
    targets = targets_of(tree.root)
    marker = tmp_path / "died"
    fatal = targets[len(targets) // 2][0]
    reader = DyingReader((), MAX_BYTES, True, parent=os.getpid(), fatal=fatal, marker=str(marker))
    serial = [reader(target) for target in targets]
    assert reader_pids() == {os.getpid()}

    scans = list(parallel_map(reader, targets, 2))
    assert marker.exists()  # a worker really died
    assert reader_pids() - {os.getpid()}  # and workers really read files
    assert [comparable(scan) for scan in scans] == [comparable(scan) for scan in serial]
    # The pool's other worker does not outlive it.
    assert len(forked) == 2
    assert still_running(forked) == []


def test_stopping_early_leaves_no_worker(tree: Tree, forked: list[int]) -> None:
    targets = targets_of(tree.root)
    scans = parallel_map(FileReader((), MAX_BYTES), targets, 2)
    assert isinstance(scans, Generator)  # what a caller that stops early closes
    first = next(scans)
    assert first.display == targets[0][0]
    assert len(forked) == 2
    # close() returns without the rest being read; the workers end once their task is done.
    scans.close()
    assert still_running(forked) == []


@pytest.mark.parametrize("whole_group", [False, True], ids=["pinner-only", "terminal-group"])
def test_ctrl_c_ends_a_run_whose_worker_is_blocked(tmp_path: Path, whole_group: bool) -> None:
    """A worker stuck on a read that never ends (a hung network filesystem, say) does not keep
    pinner alive.

    Ctrl-C from a terminal reaches the whole process group; ``kill -INT`` reaches pinner alone,
    and may be delivered to one of the pool's threads rather than the one waiting for results.
    pinner refuses a FIFO named on the command line without reading it, so the stuck read is
    made here: reading ``stuck.yaml`` opens a FIFO nobody writes.
    """
    folder = tmp_path / "d"
    folder.mkdir()
    # Enough files, and bytes, for workers: each file carries a long comment.
    padding = "# " + "x" * 78 + "\n"
    files = PARALLEL_MIN_FILES + 20
    for index in range(files):
        text = padding * (PARALLEL_MIN_BYTES // files // len(padding) + 1) + DEPLOYMENT
        (folder / f"f{index}.yaml").write_text(text)
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "stuck.yaml").write_text(DEPLOYMENT)
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            STUCK_READ,
            "check",
            "--no-config",
            "--jobs",
            "2",
            "d",
            "stuck.yaml",
        ],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own group, so the group signal reaches nobody else
    )
    try:
        blocked = _wait_for_a_blocked_reader(process.pid)
        if whole_group:
            os.killpg(process.pid, signal.SIGINT)
        else:
            process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=60)  # the bug this guards against: no exit
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 130, errors
    assert "Traceback" not in errors
    assert still_running([blocked]) == []


# pinner, with a read of stuck.yaml that never ends (inherited by the forked workers).
STUCK_READ = """
import sys
import pinner.manifests.scan as scan
from pinner.cli import main

real = scan.read_source

def stuck(path, *args, **kwargs):
    if str(path).endswith("stuck.yaml"):
        open("pipe", "rb").read()
    return real(path, *args, **kwargs)

scan.read_source = stuck
sys.exit(main(sys.argv[1:]))
"""


def _wait_for_a_blocked_reader(parent: int) -> int:
    """The pid of pinner's worker once it waits in open() for the FIFO's writer."""
    for _ in range(600):
        for child in _children(parent):
            try:
                waiting = Path(f"/proc/{child}/wchan").read_text()
            except OSError:
                continue
            if "wait_for_partner" in waiting or "fifo" in waiting:
                return child
        time.sleep(0.05)
    raise AssertionError("no worker of pinner ever blocked on the FIFO")


def _children(parent: int) -> list[int]:
    try:
        listed = Path(f"/proc/{parent}/task/{parent}/children").read_text()
    except OSError:
        return []
    return [int(pid) for pid in listed.split()]


def test_workers_are_kept_only_a_few_runs_ahead(
    tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scans wait in this process's memory only for the runs in flight, not for the whole tree."""
    submitted: list[int] = []
    submit = ProcessPoolExecutor.submit

    def counting(pool: ProcessPoolExecutor, *args: Any, **kwargs: Any) -> Future[Any]:
        submitted.append(len(args[2]))  # (function, reader, run): the run's files
        return submit(pool, *args, **kwargs)

    monkeypatch.setattr(ProcessPoolExecutor, "submit", counting)
    monkeypatch.setattr(pinner.manifests.workers, "MAX_CHUNK", 2)
    targets = targets_of(tree.root)
    scans = parallel_map(FileReader((), MAX_BYTES), targets, 2)
    next(scans)
    ahead = 2 * pinner.manifests.workers.RUNS_IN_FLIGHT_PER_WORKER
    assert len(submitted) == ahead + 1  # the run being read back was replaced by the next one
    rest = list(scans)
    assert 1 + len(rest) == len(targets)
    assert sum(submitted) == len(targets)  # every file went out once, in runs of two
    assert set(submitted) == {2} or set(submitted[:-1]) == {2}


def test_a_tree_is_still_read_when_no_worker_can_be_forked(
    tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fork() failing (EAGAIN at a process limit, ENOMEM) leaves this process to read it all."""

    def no_fork(process: multiprocessing.context.ForkProcess) -> None:
        raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(multiprocessing.context.ForkProcess, "start", no_fork)
    targets = targets_of(tree.root)
    reader = FileReader(RULES, MAX_BYTES)
    scans = list(parallel_map(reader, targets, 2))
    assert [comparable(scan) for scan in scans] == [comparable(reader(t)) for t in targets]

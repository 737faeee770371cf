"""Read a large tree in worker processes, one per CPU, and hand the scans back in order.

Reading a manifest is CPU work in one thread (libyaml holds the GIL while it composes), so a
tree of many files is split across forked worker processes. The workers are forked from this
process, so they start with pinner already imported and with the same rules; each one reads a
run of files and sends back their scans, which come out in the order the files were found, as
``iter_scans`` gives them without workers. Nothing else about a run changes: the same code reads
each file, and the report and the exit code are the same.

Workers are used only where forking is safe and pays: on Linux, from a process with no other
thread (forking a threaded process can deadlock the child), and for at least
``PARALLEL_MIN_FILES`` files of ``PARALLEL_MIN_BYTES`` in all. A worker that dies (out of
memory, say) does not lose the run: the files it had not handed back are read again in this
process.
"""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from pinner.manifests.cpus import usable_cpus
from pinner.manifests.scan import PARALLEL_MIN_FILES, FileReader, FileScan, Target

# Below this many bytes in all, workers cost more than they save: reading them in this process
# takes about 60 ms, and forking workers and sending their scans back about 10 ms.
PARALLEL_MIN_BYTES = 512 * 1024
# Files whose size is looked up to estimate the size of the tree.
SIZE_SAMPLE = 64
# pinner's own choice stops here (--jobs may ask for more): what this process does alone
# (listing the files, taking the scans back, the report) bounds the gain from more workers, and
# each one costs memory.
MAX_DEFAULT_WORKERS = 8
# Each worker gets at least this many files, so a small tree is not spread thin over many CPUs.
FILES_PER_WORKER = 64
# Files per task: fewer round trips to the workers, while a run of large files still spreads.
MAX_CHUNK_FILES = 32
# Runs handed to the workers ahead of the one being read back: keeps them busy, and bounds
# how many scans can wait in memory for this process to take them.
RUNS_IN_FLIGHT_PER_WORKER = 4
# How often the main thread wakes while it waits for a worker, to notice Ctrl-C.
WAKE_SECONDS = 0.1


def workers_for(targets: Sequence[Target], jobs: int | None) -> int:
    """How many processes should read ``targets``: ``worker_count``, and 1 for a tree too light
    to pay for the workers (many files, but small ones)."""
    workers = worker_count(jobs, len(targets))
    if workers > 1 and estimated_bytes(targets) < PARALLEL_MIN_BYTES:
        return 1
    return workers


def estimated_bytes(targets: Sequence[Target]) -> int:
    """The size of all of ``targets``, from a sample of their sizes (one stat each)."""
    sample = targets[:: max(1, len(targets) // SIZE_SAMPLE)]
    sizes = []
    for _, name in sample:
        try:
            sizes.append(os.stat(name).st_size)
        except OSError:  # reading it will say why
            continue
    return sum(sizes) * len(targets) // len(sizes) if sizes else 0


def worker_count(jobs: int | None, files: int) -> int:
    """How many processes should read ``files`` files: 1 means this process reads them.

    ``jobs`` is the ``--jobs`` flag: None lets pinner choose (one per CPU it may use, at most
    ``MAX_DEFAULT_WORKERS``).
    """
    if jobs == 1 or files < PARALLEL_MIN_FILES or not can_fork():
        return 1
    wanted = min(usable_cpus(), MAX_DEFAULT_WORKERS) if jobs is None else jobs
    return max(1, min(wanted, files // FILES_PER_WORKER))


def can_fork() -> bool:
    """Whether workers may be forked from here: Linux, and no other thread in this process."""
    return (
        sys.platform.startswith("linux")
        and "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
    )


# How long a run stopped early waits for the pool's manager thread to wind down.
MANAGER_JOIN_SECONDS = 2.0


def scan_in_workers(
    targets: Sequence[Target],
    workers: int,
    read: FileReader,
) -> Iterator[FileScan]:
    """``read(target)`` for each target, in ``workers`` forked processes, in order."""
    chunk = max(1, min(MAX_CHUNK_FILES, len(targets) // (workers * 4)))
    done = 0
    pool = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("fork"), initializer=_die_on_interrupt
    )
    before = set(multiprocessing.active_children())
    started: list[multiprocessing.process.BaseProcess] = []
    # A forked worker shares this process's memory until it writes to it. Its garbage collector
    # would walk (and so copy) every object inherited from here, which made workers slower than
    # no workers at all; frozen objects are left out of collections, in the workers for good.
    gc.freeze()
    try:
        runs = (targets[start : start + chunk] for start in range(0, len(targets), chunk))
        # A few runs per worker in flight: enough to keep the workers busy, few enough that
        # scans not yet handed on cannot pile up in memory (check keeps memory to the file).
        pending = deque(
            pool.submit(_read_run, read, run)
            for run in itertools.islice(runs, workers * RUNS_IN_FLIGHT_PER_WORKER)
        )  # the first submit forks the workers
        gc.unfreeze()
        started = [child for child in multiprocessing.active_children() if child not in before]
        while pending:
            future = pending.popleft()
            # Waited for in short slices: Ctrl-C may be delivered to one of the pool's threads,
            # and this thread notices it only when it wakes.
            while not wait([future], timeout=WAKE_SECONDS).done:
                pass
            scans = future.result()
            run = next(runs, None)
            if run is not None:
                pending.append(pool.submit(_read_run, read, run))
            for scan in scans:
                done += 1
                yield scan
    except (BrokenProcessPool, OSError):
        # No worker could be forked (a process limit, no memory), or one died without a word
        # (the kernel's OOM killer, say). The files not handed back yet are read here: if one
        # of them is what killed a worker, or raises the OSError again, this process then fails
        # the way a run without workers would have.
        pass
    finally:
        gc.unfreeze()
        finished = done == len(targets)
        if not finished:
            # Stopped early (Ctrl-C, or the caller stopped reading): a worker may be blocked
            # on a read that never ends (a FIFO, a stalled network mount), and the pool would
            # wait for it at exit. What the workers hold is only scans nobody will look at.
            for child in started:
                child.terminate()
        pool.shutdown(wait=finished, cancel_futures=True)
        if not finished:
            # The pool's manager thread closes its wake-up pipe once it sees the workers gone;
            # Python's exit handler writes to that pipe, and the two racing gave a "Bad file
            # descriptor" traceback at exit now and then. Wait for the thread, briefly: a worker
            # stuck where SIGTERM cannot reach it (a hung NFS read) must not hold pinner.
            manager = getattr(pool, "_executor_manager_thread", None)
            if manager is not None:
                manager.join(timeout=MANAGER_JOIN_SECONDS)
    for target in targets[done:]:
        yield read(target)


def _read_run(read: FileReader, run: Sequence[Target]) -> list[FileScan]:
    return [read(target) for target in run]


def _die_on_interrupt() -> None:
    # Ctrl-C reaches every process in the terminal's group. This process stops the run and
    # reports it; a worker just ends, without a KeyboardInterrupt traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_DFL)

"""A generic ordered parallel map over forked worker processes: ``parallel_map``.

Some work is CPU work in one thread (libyaml holds the GIL while it composes a manifest), so it
is split across forked worker processes. The workers are forked from this process, so they start
with everything already imported; each one takes a run of items and sends back their results,
which come out in the order of the items, as ``map`` gives them. Nothing about the results
changes: the same function makes each one.

Workers are used only where forking is safe: on Linux, from a process with no other thread
(forking a threaded process can deadlock the child). A worker that dies (out of memory, say)
does not lose the run: the items it had not handed back are done again in this process. This
module knows nothing of what the items are; ``pinner.manifests.scan`` decides when files are
worth it.
"""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from pinner.manifests.cpus import usable_cpus

T = TypeVar("T")
R = TypeVar("R")
# pinner's own choice stops here (--jobs may ask for more): what this process does alone
# (handing out the items, taking the results back, what it does with them) bounds the gain from
# more workers, and each one costs memory.
MAX_DEFAULT_WORKERS = 8
# Items per task: fewer round trips to the workers, while a run of heavy items still spreads.
MAX_CHUNK = 32
# Runs handed to the workers ahead of the one being read back: keeps them busy, and bounds
# how many results can wait in memory for this process to take them.
RUNS_IN_FLIGHT_PER_WORKER = 4
# How often the main thread wakes while it waits for a worker, to notice Ctrl-C.
WAKE_SECONDS = 0.1


def worker_count(jobs: int | None, items: int, per_worker: int = 1) -> int:
    """How many processes should share ``items`` items, each getting ``per_worker`` at least:
    1 means this process does them all.

    ``jobs`` is the ``--jobs`` flag: None lets pinner choose (one per CPU it may use, at most
    ``MAX_DEFAULT_WORKERS``).
    """
    if jobs == 1 or not can_fork():
        return 1
    wanted = min(usable_cpus(), MAX_DEFAULT_WORKERS) if jobs is None else jobs
    return max(1, min(wanted, items // per_worker))


def can_fork() -> bool:
    """Whether workers may be forked from here: Linux, and no other thread in this process."""
    return (
        sys.platform.startswith("linux")
        and "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
    )


# How long a run stopped early waits for the pool's manager thread to wind down.
MANAGER_JOIN_SECONDS = 2.0


def parallel_map(function: Callable[[T], R], items: Sequence[T], workers: int) -> Iterator[R]:
    """``function(item)`` for each item, in ``workers`` forked processes, in order.

    ``function`` is sent to the workers, so it must pickle (a module-level function, or an
    object of plain values).
    """
    chunk = max(1, min(MAX_CHUNK, len(items) // (workers * 4)))
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
        runs = (items[start : start + chunk] for start in range(0, len(items), chunk))
        # A few runs per worker in flight: enough to keep the workers busy, few enough that
        # results not yet handed on cannot pile up in memory.
        pending = deque(
            pool.submit(_map_run, function, run)
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
            results = future.result()
            run = next(runs, None)
            if run is not None:
                pending.append(pool.submit(_map_run, function, run))
            for result in results:
                done += 1
                yield result
    except (BrokenProcessPool, OSError):
        # No worker could be forked (a process limit, no memory), or one died without a word
        # (the kernel's OOM killer, say). The items not handed back yet are done here: if one
        # of them is what killed a worker, or raises the OSError again, this process then fails
        # the way a run without workers would have.
        pass
    finally:
        gc.unfreeze()
        _stop(pool, started, finished=done == len(items))
    for item in items[done:]:
        yield function(item)


def _stop(
    pool: ProcessPoolExecutor,
    started: Sequence[multiprocessing.process.BaseProcess],
    *,
    finished: bool,
) -> None:
    """Shut the pool down; when the run stopped early, without waiting for its workers."""
    if not finished:
        # Stopped early (Ctrl-C, or the caller stopped reading): a worker may be blocked
        # on a read that never ends (a FIFO, a stalled network mount), and the pool would
        # wait for it at exit. What the workers hold is only results nobody will look at.
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


def _map_run(function: Callable[[T], R], run: Sequence[T]) -> list[R]:
    return [function(item) for item in run]


def _die_on_interrupt() -> None:
    # Ctrl-C reaches every process in the terminal's group. This process stops the run and
    # reports it; a worker just ends, without a KeyboardInterrupt traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_DFL)

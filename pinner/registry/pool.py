"""The one bounded pool every registry lookup runs on: resolve, verify and tags share it.

A lookup is ``(key, registry, job)``: ``job()`` asks ``registry`` one question and its answer is
kept under ``key``. At most ``concurrency`` jobs run at once, and at most ``per_registry`` against
one registry, so one slow registry does not hold every thread and none is flooded. Jobs are
handed out taking the registries in turn, so few threads queue behind one busy registry.
Registry failures are collected by key; anything else is a bug and propagates. No HTTP here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from itertools import chain, zip_longest
from typing import Protocol, TypeVar

from pinner.errors import RegistryError

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")
Lookup = tuple[K, str, Callable[[], T]]  # (key, registry, job)
Progress = Callable[[int, int], None]


class Limits(Protocol):
    """How many lookups may run at once (``RegistrySettings`` is one)."""

    @property
    def concurrency(self) -> int: ...

    @property
    def per_registry(self) -> int: ...


def run_bounded(
    jobs: Sequence[Lookup[K, T]], limits: Limits, progress: Progress | None = None
) -> tuple[dict[K, T], dict[K, RegistryError]]:
    """Run every lookup; return the answers and the registry failures, both in ``jobs`` order.

    ``progress(done, total)`` is called in the calling thread: ``(0, total)`` first, then after
    each lookup.
    """
    if len({key for key, _, _ in jobs}) != len(jobs):
        raise ValueError("run_bounded needs a distinct key for every job")
    if progress is not None:
        progress(0, len(jobs))
    if not jobs:
        return {}, {}
    slots = {registry: threading.BoundedSemaphore(limits.per_registry) for _, registry, _ in jobs}

    def bounded(registry: str, job: Callable[[], T]) -> T:
        with slots[registry]:
            return job()

    futures: dict[K, Future[T]] = {}
    workers = min(limits.concurrency, len(jobs))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pinner-lookup") as pool:
        for key, registry, job in _interleaved(jobs):
            futures[key] = pool.submit(bounded, registry, job)
        if progress is not None:
            for done, _ in enumerate(as_completed(futures.values()), start=1):
                progress(done, len(jobs))
    answers: dict[K, T] = {}
    failures: dict[K, RegistryError] = {}
    for key, _, _ in jobs:
        try:
            answers[key] = futures[key].result()
        except RegistryError as error:
            failures[key] = error
    return answers, failures


def _interleaved(jobs: Sequence[Lookup[K, T]]) -> list[Lookup[K, T]]:
    """Jobs taking registries in turn, so few workers wait on one busy registry."""
    by_registry: dict[str, list[Lookup[K, T]]] = {}
    for job in jobs:
        by_registry.setdefault(job[1], []).append(job)
    rounds = zip_longest(*by_registry.values())
    return [job for job in chain.from_iterable(rounds) if job is not None]

"""The one bounded lookup pool that resolve, verify and tags share (``pinner.registry.pool``)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest

from pinner.registry.errors import ImageLookupError
from pinner.registry.pool import run_bounded
from pinner.settings import Settings


def test_run_bounded_limits_requests_overall_and_per_registry() -> None:
    lock = threading.Lock()
    running: Counter[str] = Counter()
    peaks: Counter[str] = Counter()

    def job(registry: str, n: int) -> Callable[[], int]:
        def work() -> int:
            with lock:
                running[registry] += 1
                peaks[registry] = max(peaks[registry], running[registry])
                peaks["all"] = max(peaks["all"], sum(running.values()))
            time.sleep(0.01)
            with lock:
                running[registry] -= 1
            return n

        return work

    jobs = [
        ((registry, n), registry, job(registry, n))
        for n in range(12)
        for registry in ("a.io", "b.io")
    ]
    settings = Settings(concurrency=3, per_registry=2)
    seen: list[tuple[int, int]] = []

    answers, failures = run_bounded(jobs, settings, lambda done, total: seen.append((done, total)))

    assert failures == {} and answers == {key: key[1] for key, _, _ in jobs}
    assert peaks["all"] <= 3 and peaks["a.io"] <= 2 and peaks["b.io"] <= 2
    assert peaks["all"] > 1  # it did run concurrently
    assert seen[0] == (0, 24) and seen[-1] == (24, 24)


def test_run_bounded_collects_registry_failures_and_lets_bugs_through() -> None:
    def refuse() -> str:
        raise ImageLookupError("refused", image="r.io/x:1")

    def fine() -> str:
        return "yes"

    answers, failures = run_bounded([("x", "r.io", refuse), ("y", "r.io", fine)], Settings())
    assert answers == {"y": "yes"}
    assert list(failures) == ["x"] and str(failures["x"]) == "Could not look up r.io/x:1: refused."

    def bug() -> str:
        raise KeyError("a bug is not a registry failure")

    with pytest.raises(KeyError):
        run_bounded([("z", "r.io", bug)], Settings())


def test_run_bounded_takes_the_registries_in_turn() -> None:
    """With one thread the order is visible: a busy registry does not hold up the others."""
    order: list[str] = []

    def job(key: str) -> Callable[[], str]:
        return lambda: order.append(key) or key

    keys = ["a1", "a2", "a3", "b1", "c1", "b2"]
    jobs = [(key, f"{key[0]}.io", job(key)) for key in keys]
    answers, _ = run_bounded(jobs, Settings(concurrency=1))
    assert order == ["a1", "b1", "c1", "a2", "b2", "a3"]
    assert list(answers) == keys  # answers come back in the order of the jobs


def test_run_bounded_needs_a_key_per_job() -> None:
    with pytest.raises(ValueError, match="distinct key"):
        run_bounded([("k", "r.io", str), ("k", "r.io", str)], Settings())

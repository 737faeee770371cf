"""What reading Helm values costs ``check``: the same run with the values search switched off.

The search has two parts: a look for ``Chart.yaml`` beside every file named like ``values*.yaml``
(then the walk of its values), and the walk of the values of Flux HelmReleases and Argo CD
Applications. Switched off, pinner reads a tree as it did before it knew about charts. Both runs
are ``check --jobs 1`` in this process, in turns (so load drifts hit both alike), timed by the
CPU time this process used: the cost is per file, and one process shows it undiluted.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import pinner.manifests.finder as finder_module
import pinner.manifests.helm_values as helm_values_module
import pinner.manifests.scan as scan_module
from benchmarks.common import Sizes, Summary, Table, run_pinner
from benchmarks.scan_bench import manifest_paths

CHECK = ["check", "--no-config", "--quiet", "--format", "json", "--jobs", "1"]
MAX_COST = 0.10  # the budget: at most 10% of check's throughput


@contextmanager
def values_search_off() -> Iterator[None]:
    """pinner without the values search: no file is a chart's values, no object holds values."""
    with (
        mock.patch.object(scan_module, "chart_of", lambda name, display: None),
        mock.patch.object(helm_values_module, "values_paths", lambda kind, api_version: ()),
        mock.patch.object(finder_module, "VALUES_KINDS", frozenset()),
    ):
        yield


def _cpu_seconds(root: Path) -> float:
    started = time.process_time()
    run_pinner([*CHECK, str(root)], (0, 1, 2))
    return time.process_time() - started


def values_search_cost(
    sizes: Sizes, workloads: list[tuple[str, Path | None]], summary: Summary
) -> Table:
    table = Table(
        "Helm values search: what it costs check (CPU seconds, one process)",
        ["workload", "files", "MB", "without the search", "with it", "MB/s with", "cost"],
    )
    rounds = max(5, 3 * sizes.repeats)
    for name, root in workloads:
        if root is None:
            table.add(name, *["n/a (no corpus)"] * 6)
            summary.add(f"values search costs check ≤10% ({name})", "n/a (no corpus)", None)
            continue
        paths = manifest_paths(root)
        size = sum(path.stat().st_size for path in paths)
        without: list[float] = []
        with_search: list[float] = []
        _cpu_seconds(root)  # warm the page cache
        for round_number in range(rounds):
            # Each round in the other order: the second run of a pair is the warmer one.
            for searching in (False, True) if round_number % 2 else (True, False):
                if searching:
                    with_search.append(_cpu_seconds(root))
                else:
                    with values_search_off():
                        without.append(_cpu_seconds(root))
        off, on = statistics.median(without), statistics.median(with_search)
        cost = (on - off) / off
        table.add(
            name,
            len(paths),
            f"{size / 1e6:.2f}",
            f"{off:.3f}",
            f"{on:.3f}",
            f"{size / on / 1e6:.2f}",
            f"{cost:+.1%}",
        )
        summary.add(f"values search costs check ≤10% ({name})", f"{cost:+.1%}", cost <= MAX_COST)
    table.notes.append(
        f"Medians of {rounds} runs each, in turns (each round in the other order). Without the "
        "search, no file is taken for a chart's values and HelmRelease/Application values are "
        "not walked; everything else is the same run."
    )
    return table


def main() -> int:
    """``python -m benchmarks.helm_bench``: this table alone, on the corpora beside the repo."""
    from benchmarks.common import FULL
    from tests.support.corpus import corpus_root, eval_corpus_root

    summary = Summary()
    workloads = [("corpus", corpus_root()), ("charts corpus (eval)", eval_corpus_root())]
    print(values_search_cost(FULL, workloads, summary).markdown())
    print()
    print(summary.table().markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""What reading kustomizations costs ``check``: the corpus checked with and without it.

"Without" is the same run with the kustomize graph switched off (``read_graph`` answers None,
so no kustomization is read twice and no scan is filtered) and, in a second row, with the
``images:`` entries not read either: pinner as it was before it knew kustomize. The runs
alternate, so a machine that slows down during the benchmark slows both alike.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from functools import partial
from pathlib import Path
from unittest import mock

from benchmarks.common import Sizes, Summary, Table, run_pinner
from pinner.manifests.kustomize import FILE_NAMES

CHECK = ["check", "--no-config", "--quiet", "--format", "json"]
MAX_COST = 0.10  # the graph may cost check at most 10% of its throughput
ROUNDS_PER_REPEAT = 5  # each cost is a small difference: it needs more runs than a throughput


@contextlib.contextmanager
def without_graph(entries_too: bool = False) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch("pinner.manifests.scan.read_graph", return_value=None))
        if entries_too:
            stack.enter_context(
                mock.patch("pinner.manifests.scan.read_kustomizations", return_value=[])
            )
        yield


# What each row switches off, in the order of the rows.
SWITCHES: tuple[Callable[[], AbstractContextManager[None]], ...] = (
    contextlib.nullcontext,
    without_graph,
    partial(without_graph, True),
)


def graph_cost(sizes: Sizes, corpus: Path | None, summary: Summary) -> Table:
    table = Table(
        "Kustomize: check over the corpus with and without reading kustomizations",
        ["workload", "files", "kustomizations", "seconds", "throughput lost"],
    )
    target = f"the kustomize graph costs check ≤{MAX_COST:.0%} of its throughput (corpus)"
    root = corpus / sizes.corpus_subfolder if corpus and sizes.corpus_subfolder else corpus
    labels = ("check, corpus", "check, corpus, no kustomize graph", "check, corpus, no kustomize")
    if root is None:
        for label in labels:
            table.add(label, *["n/a (no corpus)"] * 4)
        summary.add(target, "n/a (no corpus)", None)
        return table
    kustomizations = sum(1 for name in FILE_NAMES for _ in root.rglob(name))
    run = partial(run_pinner, [*CHECK, str(root)], (0, 1, 2))
    run()  # warm up the page cache and the imports
    times: dict[str, list[float]] = {label: [] for label in labels}
    for _ in range(sizes.repeats * ROUNDS_PER_REPEAT):
        for label, switch in zip(labels, SWITCHES, strict=True):
            with switch():
                started = time.perf_counter()
                run()
                times[label].append(time.perf_counter() - started)
    medians = {label: sorted(values)[len(values) // 2] for label, values in times.items()}
    files = sum(1 for path in root.rglob("*") if path.is_file())
    base = medians[labels[0]]
    for label in labels:
        # The throughput the full run loses against this row: 1 - (this row's time / the full's).
        lost = f"{1 - medians[label] / base:.1%}" if label != labels[0] else "(the full run)"
        table.add(label, files, kustomizations, f"{medians[label]:.3f}", lost)
    graph = 1 - medians[labels[1]] / base
    everything = 1 - medians[labels[2]] / base
    summary.add(
        target,
        f"{graph:.1%} for the graph, {everything:.1%} with the entries "
        f"({kustomizations} kustomizations)",
        graph <= MAX_COST,
    )
    table.notes.append(
        "Medians of alternating in-process runs of `pinner check` over the corpus. "
        "'throughput lost' is the share of its throughput the full run gives up against the "
        "row (negative: the row was slower, which is noise): the row without the graph skips "
        "reading the kustomization files and following their includes; the row without "
        "kustomize also skips their images entries."
    )
    return table

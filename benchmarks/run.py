"""Run every benchmark of issue 6 and print the figures as markdown tables.

    python -m benchmarks.run            # the full run (minutes; run it on a quiet machine)
    python -m benchmarks.run --quick    # a smoke run for CI (seconds): it runs, numbers come out
    python -m benchmarks.run --write-readme   # the full run, its figures into benchmarks/README.md

Run from the top of the checkout, which is how ``benchmarks`` and ``tests.support`` import.

It sets up what it needs in a temporary folder: synthetic manifest trees, the shared corpus of
real manifests (read where it lies), and the real registry (Debian's docker-registry, started on
127.0.0.1 by tests/support/registry_server.py) seeded through the distribution API. Every
comparison is a ratio against a baseline measured in the same run. Needs docker-registry and skopeo
(`bash tests/run` installs both).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import FULL, QUICK, Sizes, Summary, Table
from benchmarks.helm_bench import values_search_cost
from benchmarks.kustomize_bench import graph_cost
from benchmarks.measure import machine
from benchmarks.process_bench import memory, startup
from benchmarks.readme import README, ReadmeError, provenance, read_page, write_figures
from benchmarks.resolve_bench import resolution
from benchmarks.scan_bench import scale_files, throughput
from tests.support.corpus import corpus_root, eval_corpus_root

REPO = Path(__file__).resolve().parent.parent

REQUIRED_BINARIES = ("docker-registry", "skopeo")


def helm_workloads(sizes: Sizes) -> list[tuple[str, Path | None]]:
    """The shared corpus and the evaluation corpus (which holds real charts), as far as read."""
    corpus, charts = corpus_root(), eval_corpus_root()
    if sizes.corpus_subfolder is not None:
        corpus = corpus / sizes.corpus_subfolder if corpus else None
        charts = charts / "bitnami__charts" if charts else None
    return [("corpus", corpus), ("charts corpus (eval)", charts)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small smoke run (seconds)")
    parser.add_argument(
        "--keep", metavar="DIR", type=Path, help="work in DIR and keep it (default: a temp dir)"
    )
    parser.add_argument(
        "--write-readme",
        metavar="FILE",
        type=Path,
        nargs="?",
        const=README,
        help="write the figures into FILE below its marker line (default: benchmarks/README.md)",
    )
    args = parser.parse_args(argv)
    if args.write_readme:
        if args.quick and args.write_readme.resolve() == README:
            # A smoke run's sizes are too small to mean anything: never publish them.
            parser.error("--quick figures are not written to benchmarks/README.md; name a FILE")
        try:
            read_page(args.write_readme)
        except ReadmeError as error:
            parser.error(str(error))
    missing = [name for name in REQUIRED_BINARIES if shutil.which(name) is None]
    if missing:
        print(
            f"benchmarks: {', '.join(missing)} not installed; run `bash tests/run` once, "
            "which installs them.",
            file=sys.stderr,
        )
        return 2
    sizes = QUICK if args.quick else FULL
    started = time.monotonic()
    summary = Summary()
    facts = machine()
    with tempfile.TemporaryDirectory(prefix="pinner-bench-") as temp:
        work = args.keep or Path(temp)
        work.mkdir(parents=True, exist_ok=True)
        tables: list[Table] = []
        tables.append(throughput(sizes, work, corpus_root(), summary))
        tables.append(values_search_cost(sizes, helm_workloads(sizes), summary))
        tables.append(graph_cost(sizes, corpus_root(), summary))
        tables.append(startup(sizes, work, summary))
        resolved, scale_by_images = resolution(sizes, work, summary)
        tables.append(resolved)
        scale_by_files, largest_tree = scale_files(sizes, work, summary)
        tables.append(memory(sizes, work, largest_tree, summary))
        tables += [scale_by_files, scale_by_images]
    mode = "quick smoke run (sizes too small to mean anything)" if args.quick else "full run"
    command = f"python -m benchmarks.run{' --quick' if args.quick else ''}"
    lines = [f"## Latest figures ({mode}, {time.monotonic() - started:.0f} s)", ""]
    lines += [f"- {fact}" for fact in [*facts, provenance(REPO), f"command: `{command}`"]]
    lines += ["", summary.table().markdown()]
    for table in tables:
        lines += ["", table.markdown()]
    report = "\n".join(lines)
    print(report)
    if args.write_readme:
        try:
            write_figures(report, args.write_readme)
        except ReadmeError as error:
            print(f"benchmarks: {error}", file=sys.stderr)
            return 2
        print(f"benchmarks: figures written to {args.write_readme}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

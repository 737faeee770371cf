"""The benchmark script still runs and every comparison still produces numbers.

A smoke run only (``--quick``: tiny sizes); no timing is asserted. The figures themselves come
from ``python -m benchmarks.run --write-readme`` on a quiet machine (benchmarks/README.md); here
the quick run writes its report into a copy of that page, as the full run writes the real one.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.readme import MARKER
from tests.support.corpus import corpus_root
from tests.support.paths import REPO
from tests.support.registry_server import require_binary

pytestmark = [pytest.mark.realregistry, pytest.mark.skopeo]

# Each row label (the first cell) and how many rows start with it.
ROWS = {
    "Targets": [
        ("check ≥10× ruamel round-trip (corpus)", 1),
        ("check ≥10× ruamel round-trip (synthetic tree)", 1),
        ("stretch: check ≥ libyaml compose", 2),
        ("pin --offline ≥10× ruamel round-trip", 2),
        ("start-up ≤4× python -c pass", 1),
        ("start-up ≤1.2× python -c 'import typer, ruamel.yaml'", 1),
        ("resolution ≥20× skopeo per image", 2),
        ("resolution ≥5× pinner --concurrency 1", 2),
        ("memory follows the largest file, not the tree", 1),
        ("values search costs check ≤10%", 2),
        ("linear in files", 1),
        ("linear in distinct images", 1),
        ("the kustomize graph costs check", 1),
    ],
    "Kustomize: check over the corpus": [
        ("check, corpus", 3),
        ("check, corpus, no kustomize graph", 1),
        ("check, corpus, no kustomize", 2),
    ],
    "Scan throughput": [
        # pinner's default (workers for a large tree), then the same in one process (--jobs 1).
        ("check, corpus", 2),
        ("pin --offline, corpus", 2),
        ("check, synthetic tree", 2),
        ("pin --offline, synthetic tree", 2),
        ("check, corpus, one process (--jobs 1)", 1),
        ("pin --offline, synthetic tree, one process (--jobs 1)", 1),
    ],
    "Helm values search": [("corpus", 1), ("charts corpus (eval)", 1)],
    "Start-up": [
        ("python -c pass", 1),
        ("python -c 'import ruamel.yaml'", 1),
        ("python -c 'import typer'", 1),
        ("python -c 'import typer, ruamel.yaml'", 1),
        ("pinner check deployment.yaml", 1),
    ],
    "Resolution": [
        ("pinner pin --dry-run (default concurrency), in-process", 1),
        ("pinner pin --dry-run --concurrency 1, in-process", 1),
        ("pinner pin as a command", 1),
        ("skopeo inspect, one process per image", 1),
        ("via a 10 ms round-trip proxy: pinner pin --dry-run", 2),
        ("via a 10 ms round-trip proxy: pinner pin --dry-run --concurrency 1", 1),
        ("via a 10 ms round-trip proxy: pinner pin as a command", 1),
        ("via a 10 ms round-trip proxy: skopeo inspect", 1),
    ],
    "Memory": [
        ("one small manifest (start-up)", 1),
        ("tree of", 2),
        ("the same tree and the", 1),
    ],
    "Scale: check time": [("files ×", 3)],
    "Scale: `pin --dry-run` time": [("images ×", 3)],
}
NUMBER = re.compile(r"\d")


def tables(output: str) -> dict[str, list[list[str]]]:
    """Each table's rows (as lists of cells), by the start of its title."""
    found: dict[str, list[list[str]]] = {}
    rows: list[list[str]] = []
    for line in output.splitlines():
        if line.startswith("### "):
            rows = found.setdefault(line[4:], [])
        elif line.startswith("| ") and not line.startswith("| ---"):
            rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return {title: rows[1:] for title, rows in found.items()}  # without the header row


def test_quick_run_prints_every_row_with_numbers(tmp_path: Path) -> None:
    require_binary("docker-registry")
    require_binary("skopeo")
    page = tmp_path / "README.md"
    page.write_text(f"# Benchmarks\n\n{MARKER}\n\nold figures\n")
    result = subprocess.run(
        # As the README says: a module run from the top of the checkout, no sys.path patching.
        [sys.executable, "-m", "benchmarks.run", "--quick", "--write-readme", str(page)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found = tables(result.stdout)
    no_corpus = corpus_root() is None
    for start, expected in ROWS.items():
        titles = [title for title in found if title.startswith(start)]
        assert len(titles) == 1, (start, list(found))
        rows = found[titles[0]]
        for label, count in expected:
            matching = [row for row in rows if row[0].startswith(label)]
            assert len(matching) == count, (start, label, rows)
            for row in matching:
                if no_corpus and "corpus" in row[0]:
                    continue
                assert NUMBER.search(row[1]), row
    assert "- CPU: " in result.stdout and "ruamel.yaml" in result.stdout
    assert " at commit " in result.stdout or "outside a git checkout" in result.stdout
    # The page holds exactly the printed report below its marker; the figures it had are gone.
    assert page.read_text() == f"# Benchmarks\n\n{MARKER}\n\n{result.stdout.strip()}\n"

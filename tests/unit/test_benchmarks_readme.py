"""benchmarks/README.md's figures are written by ``python -m benchmarks.run``, below a marker."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from benchmarks.readme import MARKER, README, ReadmeError, replace_figures, write_figures
from tests.support.paths import REPO
from tests.support.processes import run_module

REPORT = "## Latest figures (full run, 1 s)\n\n### Targets\n\n| a |\n| --- |\n| 1 |\n"


def test_the_page_has_its_marker_and_figures_below_it() -> None:
    head, marker, figures = README.read_text(encoding="utf-8").partition(MARKER)
    assert marker, "benchmarks/README.md lost its marker line"
    assert "## Latest figures" in figures and "### Targets" in figures
    assert "## Latest figures" not in head


def test_figures_replace_everything_below_the_marker_and_nothing_above() -> None:
    page = f"# Benchmarks\n\nHow it is measured.\n\n{MARKER}\n\n## Latest figures (old)\n| 0 |\n"
    updated = replace_figures(page, REPORT)
    assert updated == f"# Benchmarks\n\nHow it is measured.\n\n{MARKER}\n\n{REPORT}"
    assert replace_figures(updated, REPORT) == updated  # a second write of the same run: same page


def test_a_page_without_the_marker_is_refused_and_left_alone(tmp_path: Path) -> None:
    page = tmp_path / "README.md"
    page.write_text("# Benchmarks, hand-written\n")
    with pytest.raises(ReadmeError, match="no marker line"):
        write_figures(REPORT, page)
    assert page.read_text() == "# Benchmarks, hand-written\n"
    assert list(tmp_path.iterdir()) == [page]  # no temporary file left behind


def test_write_figures_writes_the_file(tmp_path: Path) -> None:
    page = tmp_path / "README.md"
    page.write_text(f"intro\n{MARKER}\nold figures\n")
    write_figures(REPORT, page)
    assert page.read_text() == f"intro\n{MARKER}\n\n{REPORT}"
    assert list(tmp_path.iterdir()) == [page]


def run_benchmarks(*args: str) -> subprocess.CompletedProcess[str]:
    # A module run from the top of the checkout, as the README says.
    return run_module("benchmarks.run", *args, cwd=REPO, timeout=120)


def test_a_quick_run_never_writes_the_real_page() -> None:
    before = README.read_bytes()
    result = run_benchmarks("--quick", "--write-readme")
    assert result.returncode == 2
    assert "--quick figures are not written to benchmarks/README.md" in result.stderr
    assert README.read_bytes() == before


def test_a_page_without_the_marker_is_refused_before_measuring(tmp_path: Path) -> None:
    page = tmp_path / "notes.md"
    page.write_text("no marker here\n")
    result = run_benchmarks("--quick", "--write-readme", str(page))
    assert result.returncode == 2
    assert "no marker line" in result.stderr
    assert result.stdout == ""  # refused at once: nothing was measured

"""benchmarks/README.md's figures, written from a run's results.

The file has two parts. Above MARKER: how the figures are measured, written by hand. Below it:
the latest figures, which only `python -m benchmarks.run --write-readme` writes, replacing
everything below the marker with the run's report. A hand edit below the marker would be lost
at the next run, which is the point: the figures on the page are always those of a real run.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

README = Path(__file__).resolve().parent / "README.md"
MARKER = (
    "<!-- Everything below is written by `python -m benchmarks.run --write-readme`; "
    "edits below this line are lost at the next run. -->"
)


class ReadmeError(Exception):
    """The README cannot take the figures (no marker to write below)."""


def provenance(repo: Path) -> str:
    """When, and at which commit, the figures were taken: a report says what run produced it."""
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    try:
        commit = _git(repo, "rev-parse", "--short", "HEAD")
        dirty = _git(repo, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return f"taken {when}, outside a git checkout"
    changes = " with uncommitted changes" if dirty else ""
    return f"taken {when} at commit {commit}{changes}"


def _git(repo: Path, *args: str) -> str:
    command = ["git", "-C", str(repo), *args]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=10, check=True
    ).stdout.strip()


def replace_figures(text: str, report: str) -> str:
    """TEXT with everything below the marker replaced by REPORT."""
    head, found, _old = text.partition(MARKER)
    if not found:
        raise ReadmeError(f"no marker line {MARKER!r} to write the figures below")
    return f"{head}{MARKER}\n\n{report.strip()}\n"


def read_page(path: Path) -> str:
    """PATH's text, checked to have the marker: run.py calls this before minutes of measuring."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ReadmeError(f"cannot read {path}: {error.strerror}") from error
    replace_figures(text, "")
    return text


def write_figures(report: str, path: Path = README) -> None:
    """Write REPORT below the marker of PATH, atomically: the page is old or new, never half."""
    updated = replace_figures(read_page(path), report)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(updated)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

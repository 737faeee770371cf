"""Put a pin run's new texts on disk, or show them as a diff; nothing here prints.

Every changed file is written in one batch (``pinner.manifests.rewrite``), so their data and
renames are synced together. A file that cannot be written, or that changed on disk since it
was read, keeps its old bytes, and its images count as failed, not pinned.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from pinner.errors import Diagnostic, Location
from pinner.manifests.rewrite import PendingWrite, write_all_atomic
from pinner.planning import FilePlan


def write_plans(plans: Sequence[FilePlan]) -> list[Diagnostic]:
    """Write every plan's new text; return why each file that could not be written was not."""
    errors = []
    pending = [_pending(plan) for plan in plans]
    for plan, failure in zip(plans, write_all_atomic(pending), strict=True):
        if failure is not None:
            errors.append(_write_failure(plan, failure))
            _unwritten(plan)
    return errors


def unified_diff(display: str, old: str, new: str) -> str:
    """``diff -u`` of a file's old and new text, every line ending in a newline."""
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"a/{display}",
        tofile=f"b/{display}",
    )
    return "".join(line if line.endswith("\n") else f"{line}\n" for line in lines)


def _pending(plan: FilePlan) -> PendingWrite:
    source = plan.scan.source
    assert source is not None and source.path is not None and plan.new_text is not None
    return PendingWrite(source.path, source.encode(plan.new_text), source.raw, source.identity)


def _write_failure(plan: FilePlan, failure: Exception) -> Diagnostic:
    """Why a planned file could not be written, as the user is told, placed at the file."""
    place = (Location(plan.scan.display),)
    if isinstance(failure, OSError):
        message = (
            f"{plan.scan.display}: cannot write the file ({failure.strerror}); it was not "
            "changed. Check the permissions of the file and its folder."
        )
        return Diagnostic(message, place)
    return Diagnostic(str(failure), place)


def _unwritten(plan: FilePlan) -> None:
    """A file that could not be written was not pinned: count its images as failed."""
    plan.tally.failed += plan.tally.pinned
    plan.tally.pinned = 0
    plan.changes = []

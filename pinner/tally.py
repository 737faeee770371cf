"""The figures of a command's summary line, added up as the files are read."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass
class Tally:
    """The figures of the summary line."""

    files: int = 0
    references: int = 0
    pinned: int = 0
    already_pinned: int = 0
    exempt: int = 0
    failed: int = 0  # references: not resolved, not valid, or in a file left untouched
    unreadable: int = 0  # files that could not be read or parsed: their images are unknown
    skipped: int = 0  # templates and their templated images; blocks pin may not write

    def add(self, other: Tally) -> None:
        for figure in fields(self):
            setattr(self, figure.name, getattr(self, figure.name) + getattr(other, figure.name))

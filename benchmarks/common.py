"""What every benchmark section shares: the sizes of a run and the tables it prints."""

from __future__ import annotations

import hashlib
import textwrap
from dataclasses import dataclass, field

from benchmarks.measure import silenced
from pinner.cli import main as pinner_main

NOTE_WIDTH = 100  # the README's line length


@dataclass(frozen=True)
class Sizes:
    """How big each workload is: the full run, or the quick smoke run for CI."""

    synthetic_files: int
    corpus_subfolder: str | None  # read only this part of the corpus (quick runs)
    repeats: int
    resolution_tags: int
    skopeo_sample: int
    latency_ms: float
    startup_repeats: int
    installed_startup: bool  # time start-up in a virtualenv pinner is installed in
    memory_streams: tuple[int, ...]  # bytes of each multi-document stream
    scale_files: tuple[int, int, int]
    scale_images: tuple[int, int, int]


FULL = Sizes(
    synthetic_files=2000,
    corpus_subfolder=None,
    repeats=3,
    resolution_tags=500,
    skopeo_sample=50,
    latency_ms=10.0,
    startup_repeats=40,
    installed_startup=True,
    memory_streams=(2_000_000, 15_000_000, 50_000_000),
    scale_files=(1000, 4000, 16000),
    scale_images=(100, 400, 1600),
)
QUICK = Sizes(
    synthetic_files=40,
    corpus_subfolder="kubernetes-sigs__metrics-server",
    repeats=1,
    resolution_tags=30,
    skopeo_sample=2,
    latency_ms=10.0,
    startup_repeats=3,
    installed_startup=False,
    memory_streams=(200_000, 1_000_000),
    scale_files=(20, 40, 80),
    scale_images=(10, 20, 40),
)


@dataclass
class Table:
    title: str
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: object) -> None:
        self.rows.append([str(cell) for cell in cells])

    def markdown(self) -> str:
        lines = [f"### {self.title}", ""]
        lines.append("| " + " | ".join(self.header) + " |")
        lines.append("|" + "|".join(" --- " for _ in self.header) + "|")
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        for note in self.notes:
            lines += ["", *textwrap.wrap(note, NOTE_WIDTH, break_on_hyphens=False)]
        return "\n".join(lines)


@dataclass
class Summary:
    """One line per target of issue 6: what was measured and whether it was met."""

    rows: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, target: str, measured: str, met: bool | None) -> None:
        verdict = "n/a" if met is None else ("yes" if met else "**no**")
        self.rows.append((target, measured, verdict))

    def table(self) -> Table:
        table = Table("Targets", ["target", "measured", "met"])
        for row in self.rows:
            table.add(*row)
        return table


def run_pinner(arguments: list[str], allowed: tuple[int, ...] = (0, 1)) -> int:
    """``pinner ARGUMENTS`` in this process, output swallowed; the exit status must be allowed."""
    with silenced():
        code = pinner_main(arguments)
    if code not in allowed:
        raise RuntimeError(f"pinner {' '.join(arguments)} exited {code}")
    return code


def fake_digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.1f}×" if denominator > 0 else "n/a"

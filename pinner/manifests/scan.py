"""Read manifests and find their images: the collect phase shared by every command."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import NamedTuple

from pinner.errors import InvalidReferenceError, ManifestError, PinnerError
from pinner.helm_shapes import SHAPES, BlockShape
from pinner.kinds import Rule
from pinner.manifests.charts import Chart, chart_of
from pinner.manifests.files import (
    STDIN,
    STDIN_NAME,
    SourceFile,
    decode,
    read_source,
)
from pinner.manifests.finder import TemplateFile, find_all
from pinner.manifests.kustomize import read_kustomizations
from pinner.manifests.kustomize_graph import read_graph
from pinner.manifests.sites import ImageSite, Skipped
from pinner.manifests.walk import discover_names
from pinner.reference import Reference, parse_reference
from pinner.settings import DEFAULT_MAX_FILE_BYTES

# Called with (files done, files in all) as the scan goes, for a progress bar.
Progress = Callable[[int, int], None]
# A file to read, as ``discover`` found it: (the name reports use, the path to open).
Target = tuple[str, str]
# Below this many files, starting worker processes costs more than they save (measured: about
# 6 ms to fork two, against about 0.1 ms to read a typical manifest).
PARALLEL_MIN_FILES = 128
# Below this many bytes in all, workers cost more than they save: reading them in this process
# takes about 60 ms, and forking workers and sending their scans back about 10 ms.
PARALLEL_MIN_BYTES = 512 * 1024
# Each worker gets at least this many files, so a small tree is not spread thin over many CPUs.
FILES_PER_WORKER = 64
# Files whose size is looked up to estimate the size of the tree.
SIZE_SAMPLE = 64


class FoundImage(NamedTuple):
    """One image a scan found: where it is written, and what it names or why it names nothing."""

    site: ImageSite
    reference: Reference | None  # None when the image is not a valid reference
    # Why it is not one. `check` still reports the file's other images; `pin` leaves the file
    # alone.
    error: PinnerError | None = None


@dataclass
class FileScan:
    """One file's images, or why it could not be read."""

    display: str
    source: SourceFile | None = None  # None if it could not be read
    images: list[FoundImage] = field(default_factory=list)  # in the order of the file
    error: PinnerError | None = None
    # Passed over, not failed: a template that is not YAML (line 0), or each image in it that
    # a template expression fills in.
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def sites(self) -> list[ImageSite]:
        return [image.site for image in self.images]

    @property
    def invalid(self) -> list[PinnerError]:
        """Why each image that is not a valid reference is not one, in the order of the file."""
        return [image.error for image in self.images if image.error is not None]


def scan_paths(
    arguments: Sequence[str],
    rules: Sequence[Rule] = (),
    exclude: Iterable[str] = (),
    progress: Progress | None = None,
    max_bytes: int = DEFAULT_MAX_FILE_BYTES,
    shapes: Sequence[BlockShape] = SHAPES,
) -> list[FileScan]:
    """Scan every file named or found; raises ManifestError only when a folder cannot be listed.

    A file larger than ``max_bytes`` is not read: its scan holds the error that says so.
    """
    return list(iter_scans(arguments, rules, exclude, progress, max_bytes, shapes=shapes))


def iter_scans(
    arguments: Sequence[str],
    rules: Sequence[Rule] = (),
    exclude: Iterable[str] = (),
    progress: Progress | None = None,
    max_bytes: int = DEFAULT_MAX_FILE_BYTES,
    *,
    jobs: int | None = None,
    keep_sources: bool = True,
    shapes: Sequence[BlockShape] = SHAPES,
) -> Iterator[FileScan]:
    """``scan_paths`` one file at a time: a command that keeps only what it reports holds one
    file's text at a time, so its memory follows the largest file, not the tree.

    A large tree is read by ``jobs`` worker processes (None: one per CPU; see ``workers_for``
    and ``pinner.manifests.workers``); the scans come out in the same order either way.
    ``keep_sources=False`` drops each file's text once it is scanned, for commands that only report.
    """
    # Names as strings, a Path made for each file as it is read: the list can be long.
    targets = list(discover_names(arguments, exclude))
    # The kustomizations among them decide which resource images their entries replace; what
    # they include from outside the paths named is read too.
    graph = read_graph(targets, exclude, max_bytes)
    if graph is not None:
        targets += graph.extra
    reader = FileReader(tuple(rules), max_bytes, keep_sources, tuple(shapes))
    scans: Iterable[FileScan] = map(reader, targets)
    workers = workers_for(targets, jobs)
    if workers > 1:
        # Imported here: a commit hook reading a few files needs no process pool.
        from pinner.manifests.workers import parallel_map

        scans = parallel_map(reader, targets, workers)
    if progress is not None:
        progress(0, len(targets))
    for done, (target, scan) in enumerate(zip(targets, scans, strict=True), 1):
        if progress is not None:
            progress(done, len(targets))
        yield scan if graph is None else graph.apply(scan, target[1])


def workers_for(targets: Sequence[Target], jobs: int | None) -> int:
    """How many processes should read ``targets`` (1: this one): none for fewer than
    ``PARALLEL_MIN_FILES`` files or ``PARALLEL_MIN_BYTES``, else one per CPU (or ``jobs``),
    with at least ``FILES_PER_WORKER`` files each."""
    if len(targets) < PARALLEL_MIN_FILES:
        return 1
    from pinner.manifests.workers import worker_count

    workers = worker_count(jobs, len(targets), FILES_PER_WORKER)
    if workers > 1 and estimated_bytes(targets) < PARALLEL_MIN_BYTES:
        return 1
    return workers


def estimated_bytes(targets: Sequence[Target]) -> int:
    """The size of all of ``targets``, from a sample of their sizes (one stat each)."""
    sample = targets[:: max(1, len(targets) // SIZE_SAMPLE)]
    sizes = []
    for _, name in sample:
        try:
            sizes.append(os.stat(name).st_size)
        except OSError:  # reading it will say why
            continue
    return sum(sizes) * len(targets) // len(sizes) if sizes else 0


@dataclass(frozen=True)
class FileReader:
    """Reads one file that ``discover`` found, ``(display name, path)``, into its FileScan.

    It is sent to worker processes, so it holds only plain values.
    """

    rules: tuple[Rule, ...]
    max_bytes: int
    keep_sources: bool = True
    shapes: tuple[BlockShape, ...] = SHAPES

    def __call__(self, target: Target) -> FileScan:
        display, name = target
        read = partial(read_source, Path(name), display, self.max_bytes)
        scan = scan_source(display, read, self.rules, self.shapes, chart_of(name, display))
        if not (self.keep_sources and scan.images):
            scan.source = None  # nothing will be written: the text need not be kept (or sent)
        return scan


def scan_stdin(
    raw: bytes,
    rules: Sequence[Rule] = (),
    max_bytes: int = DEFAULT_MAX_FILE_BYTES,
    shapes: Sequence[BlockShape] = SHAPES,
) -> FileScan:
    """Scan standard input's bytes, read with ``read_capped(..., max_bytes)``."""
    read = partial(decode, raw, STDIN_NAME, None, max_bytes)
    return scan_source(STDIN_NAME, read, rules, shapes)


def scan_source(
    display: str,
    read: Callable[[], SourceFile],
    rules: Sequence[Rule],
    shapes: Sequence[BlockShape] = SHAPES,
    chart: Chart | None = None,
) -> FileScan:
    """``chart``: the file is that chart's values (``pinner.manifests.charts``)."""
    scan = FileScan(display)
    try:
        source = scan.source = read()
        sites, scan.skipped = find_all(source.text, display, rules, shapes=shapes, chart=chart)
        entries = [site for _, found in read_kustomizations(source.text, display) for site in found]
        if entries:  # a kustomization's images entries, among what the finder found
            sites = sorted([*sites, *entries], key=lambda site: (site.line, site.column))
        scan.images = [_found(site) for site in sites]
    except TemplateFile as notice:
        scan.skipped = [Skipped(display, 0, 0, str(notice))]
    except ManifestError as exc:
        scan.error = exc
    return scan


def _found(site: ImageSite) -> FoundImage:
    try:
        return FoundImage(site, parse_reference(site.image))
    except InvalidReferenceError as exc:
        return FoundImage(
            site,
            None,
            ManifestError(
                f"{site.where}: invalid image reference {site.image!r}: {exc}. Fix the image.",
                at=[site.location],
            ),
        )


def is_stdin(arguments: Sequence[str]) -> bool:
    return list(arguments) == [STDIN]

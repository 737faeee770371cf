"""Finding manifest files and reading them as text without losing a byte.

Files are read as bytes and decoded as strict UTF-8, so writing the text back gives the same
bytes; line endings are never translated. A UTF-8 byte order mark is kept aside and restored.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pinner.errors import ManifestError

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
# Folders that hold other people's code or tooling state, not this repository's manifests.
SKIPPED_FOLDERS = frozenset({"node_modules", "vendor", "third_party"})
UTF8_BOM = "\ufeff"
STDIN = "-"
STDIN_NAME = "<stdin>"


@dataclass(frozen=True)
class SourceFile:
    """A manifest as read: ``text`` is what the finder sees (no BOM); ``raw`` the bytes."""

    display: str  # the path as the user named it, or "<stdin>"
    path: Path | None  # None for standard input
    raw: bytes
    text: str
    bom: bool

    def encode(self, text: str) -> bytes:
        return ((UTF8_BOM if self.bom else "") + text).encode("utf-8")


def decode(raw: bytes, display: str, path: Path | None = None) -> SourceFile:
    """Decode ``raw`` as strict UTF-8, or raise a ManifestError that says where it fails."""
    if b"\0" in raw:
        raise ManifestError(
            f"{display}: not a text file (it contains NUL bytes); it was not changed. "
            "Exclude it with --exclude."
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ManifestError(
            f"{display}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset "
            f"{exc.start}); it was not changed. Save the file as UTF-8."
        ) from None
    bom = text.startswith(UTF8_BOM)
    return SourceFile(display, path, raw, text[1:] if bom else text, bom)


def read_source(path: Path, display: str | None = None) -> SourceFile:
    shown = display if display is not None else str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ManifestError(
            f"{shown}: cannot read the file ({describe_os_error(exc)}). Check that it exists "
            "and that you may read it."
        ) from None
    return decode(raw, shown, path)


def describe_os_error(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def discover(arguments: Iterable[str], exclude: Iterable[str] = ()) -> Iterator[tuple[str, Path]]:
    """(display name, path) for every manifest named or found under the named folders.

    A file named on the command line is always read, whatever its suffix. Folders are walked
    for *.yaml, *.yml and *.json, skipping hidden and vendored folders and symbolic links (so a
    walk never leaves the tree; a link's target inside the tree is read under its own name).
    """
    patterns = tuple(exclude)
    seen: set[Path] = set()
    for argument in arguments:
        root = Path(argument)
        if not root.is_dir():
            if not _excluded(root, patterns):
                yield argument, root
            continue
        for path in _walk(root):
            resolved = path.resolve()
            if resolved not in seen and not _excluded(path, patterns):
                seen.add(resolved)
                yield str(path), path


def _walk(root: Path) -> Iterator[Path]:
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = sorted(
            name
            for name in subfolders
            if not name.startswith(".")
            and name not in SKIPPED_FOLDERS
            and not os.path.islink(os.path.join(folder, name))
        )
        for name in sorted(names):
            path = Path(folder, name)
            if name.endswith(MANIFEST_SUFFIXES) and not path.is_symlink():
                yield path


def _excluded(path: Path, patterns: tuple[str, ...]) -> bool:
    posix = path.as_posix()
    return any(fnmatch.fnmatch(posix, pattern) or path.match(pattern) for pattern in patterns)

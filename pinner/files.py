"""Reading manifest files as text without losing a byte (``pinner.walk`` finds them).

Files are read as bytes and decoded as strict UTF-8, so writing the text back gives the same
bytes; line endings are never translated. A UTF-8 byte order mark is kept aside and restored.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pinner.errors import ManifestError

UTF8_BOM = "\ufeff"
# Composing YAML takes up to some 70 bytes of memory per byte of text (and about a second per MiB
# on a slow machine), so a larger file or input is refused, and never read past this size. Real
# manifests, even a whole rendered Helm chart with its CRDs, are a few MiB at most.
MAX_FILE_BYTES = 16 * 1024 * 1024
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
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
    if len(raw) > MAX_FILE_BYTES:
        raise ManifestError(
            f"{display}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB, more than pinner "
            "reads; it was not changed. Split it into smaller files, or exclude it with --exclude."
        )
    if raw.startswith(UTF16_BOMS):
        # Windows PowerShell's `>` writes UTF-16: every other byte is NUL, but it is text.
        raise ManifestError(
            f"{display}: not UTF-8 text (it is UTF-16); it was not changed. Save the file as UTF-8."
        )
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
        with path.open("rb") as handle:
            raw = _read_capped(handle)
    except OSError as exc:
        raise ManifestError(
            f"{shown}: cannot read the file ({describe_os_error(exc)}). Check that it exists "
            "and that you may read it."
        ) from None
    return decode(raw, shown, path)


def _read_capped(handle: BinaryIO) -> bytes:
    """The file's bytes, but never more than one byte past ``MAX_FILE_BYTES`` (which tells
    ``decode`` the file is too large).

    ``read(MAX_FILE_BYTES + 1)`` would allocate 16 MiB for every file, however small: read what
    the file's size says, plus one byte to see whether it grew (or is a pipe, whose size is 0).
    """
    size = os.fstat(handle.fileno()).st_size
    data = handle.read(min(size, MAX_FILE_BYTES) + 1)
    if len(data) <= size:
        return data
    return data + handle.read(MAX_FILE_BYTES + 1 - len(data))


def describe_os_error(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__

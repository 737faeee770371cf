"""Reading manifest files as text without losing a byte (``pinner.manifests.walk`` finds them).

Files are read as bytes and decoded as strict UTF-8, so writing the text back gives the same
bytes; line endings are never translated. A UTF-8 byte order mark is kept aside and restored.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from pinner.errors import Location, ManifestError, UnreadableFileError
from pinner.settings import DEFAULT_MAX_FILE_BYTES
from pinner.sizes import format_size

UTF8_BOM = "\ufeff"
# Composing YAML takes up to some 70 bytes of memory per byte of text (and about a second per MiB
# on a slow machine), so a larger file or input is refused, and never read past this size. Real
# manifests, even a whole rendered Helm chart with its CRDs, are a few MiB at most; a larger
# limit is --max-file-size (max_file_size in .pinner.yaml).
# A stream whose size is unknown (a pipe) is read this much at a time, so a small one does not
# allocate the whole limit.
READ_CHUNK = 1024 * 1024
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
STDIN = "-"
STDIN_NAME = "<stdin>"
# What a name on the command line may be instead of a file: reading a FIFO would block forever.
_NOT_FILES = {
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a folder",
}


@dataclass(frozen=True)
class SourceFile:
    """A manifest as read: ``text`` is what the finder sees (no BOM); ``raw`` the bytes."""

    display: str  # the path as the user named it, or "<stdin>"
    path: Path | None  # None for standard input
    raw: bytes
    text: str
    bom: bool
    # (st_dev, st_ino) of the file read: the writer replaces only this file.
    identity: tuple[int, int] | None = None

    def encode(self, text: str) -> bytes:
        return ((UTF8_BOM if self.bom else "") + text).encode("utf-8")


def decode(
    raw: bytes,
    display: str,
    path: Path | None = None,
    max_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> SourceFile:
    """Decode ``raw`` as strict UTF-8, or raise a ManifestError that says where it fails.

    ``raw`` longer than ``max_bytes`` (``read_capped`` stops one byte past it) is refused.
    """
    if len(raw) > max_bytes:
        raise ManifestError(
            f"{display}: larger than {format_size(max_bytes)} (the --max-file-size limit), more "
            "than pinner reads. Raise --max-file-size (or max_file_size in "
            ".pinner.yaml), split it, or exclude it with --exclude.",
            at=[Location(display)],
        )
    if raw.startswith(UTF16_BOMS):
        # Windows PowerShell's `>` writes UTF-16: every other byte is NUL, but it is text.
        raise ManifestError(
            f"{display}: not UTF-8 text (it is UTF-16). Save the file as UTF-8.",
            at=[Location(display)],
        )
    if b"\0" in raw:
        raise ManifestError(
            f"{display}: not a text file (it contains NUL bytes). Exclude it with --exclude.",
            at=[Location(display)],
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ManifestError(
            f"{display}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset "
            f"{exc.start}). Save the file as UTF-8.",
            at=[Location(display, line)],
        ) from None
    bom = text.startswith(UTF8_BOM)
    return SourceFile(display, path, raw, text[1:] if bom else text, bom)


def read_source(
    path: Path, display: str | None = None, max_bytes: int = DEFAULT_MAX_FILE_BYTES
) -> SourceFile:
    shown = display if display is not None else str(path)
    try:
        _refuse_non_file(shown, os.stat(path).st_mode)  # before opening: a device may react
        # O_NONBLOCK: a FIFO put in its place since opens at once instead of waiting for a
        # writer; fstat then tells what was opened.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        with open(descriptor, "rb") as handle:
            status = os.fstat(descriptor)
            _refuse_non_file(shown, status.st_mode)
            raw = read_capped(handle, max_bytes)
    except OSError as exc:
        raise UnreadableFileError(
            f"{shown}: cannot read the file ({describe_os_error(exc)}). Check that it exists "
            "and that you may read it.",
            at=[Location(shown)],
        ) from None
    return replace(decode(raw, shown, path, max_bytes), identity=(status.st_dev, status.st_ino))


def _refuse_non_file(display: str, mode: int) -> None:
    if not stat.S_ISREG(mode):
        what = _NOT_FILES.get(stat.S_IFMT(mode), "neither a file nor a folder")
        raise ManifestError(
            f"{display}: not a regular file (it is {what}); pinner reads only files, so it was "
            "not read. Give standard input as '-' (pinner pin - < FILE), or leave the name out."
        )


def read_capped(handle: BinaryIO, max_bytes: int) -> bytes:
    """The file's or stream's bytes, but never more than one byte past ``max_bytes`` (which
    tells ``decode`` the input is too large).

    ``read(max_bytes + 1)`` would allocate the whole limit for every file, however small: read
    what the file's size says, plus one byte to see whether it grew. A stream of unknown size (a
    pipe, whose size is 0) is read a chunk at a time, up to the same limit.
    """
    try:
        size = os.fstat(handle.fileno()).st_size
    except (OSError, ValueError):  # no file descriptor (io.UnsupportedOperation is both)
        size = 0
    data = handle.read(min(size, max_bytes) + 1)
    if len(data) <= size or not data:
        return data
    chunks = [data]
    left = max_bytes + 1 - len(data)
    while left > 0:
        asked = min(left, READ_CHUNK)
        chunk = handle.read(asked)
        chunks.append(chunk)
        left -= len(chunk)
        # A buffered read returns less than asked only at the end: on a terminal, that is one
        # Ctrl-D, and asking again would wait for a second.
        if len(chunk) < asked:
            break
    return b"".join(chunks)


def describe_os_error(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__

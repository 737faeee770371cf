"""Reading manifest files as text without losing a byte (``pinner.walk`` finds them).

Files are read as bytes and decoded as strict UTF-8, so writing the text back gives the same
bytes; line endings are never translated. A UTF-8 byte order mark is kept aside and restored.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pinner.errors import ManifestError

UTF8_BOM = "\ufeff"
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
        raw = path.read_bytes()
    except OSError as exc:
        raise ManifestError(
            f"{shown}: cannot read the file ({describe_os_error(exc)}). Check that it exists "
            "and that you may read it."
        ) from None
    return decode(raw, shown, path)


def describe_os_error(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__

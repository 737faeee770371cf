"""The errors pinner reports to people.

Library code raises these; only the CLI prints them. Every message is a full sentence that says
what went wrong, where, and what to do about it. Bugs are not user errors: they are not wrapped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple


class Location(NamedTuple):
    """Where a problem is, as data, so reports can place it (GitHub annotations, SARIF, JSON).

    ``path`` is the name reports use for the file (``<stdin>`` for standard input); ``line`` and
    ``column`` count from 1; ``image`` is the image the problem is about, as written.
    """

    path: str
    line: int | None = None
    column: int | None = None
    image: str | None = None


class Diagnostic(NamedTuple):
    """An error or a notice as a report shows it: the message, and each place it is about."""

    message: str
    locations: tuple[Location, ...] = ()

    @classmethod
    def of(cls, error: PinnerError) -> Diagnostic:
        return cls(str(error), error.locations)


class PinnerError(Exception):
    """A problem the user can act on. The message is printed as-is, without a traceback.

    The message names the place too (``file:line: ...``); ``at`` gives it as data.
    """

    def __init__(self, message: str, *, at: Iterable[Location] = ()) -> None:
        super().__init__(message)
        self.locations = tuple(at)


class InvalidReferenceError(PinnerError):
    """An image reference that does not follow the distribution reference grammar."""


class ManifestError(PinnerError):
    """A file that cannot be read, decoded or parsed, or whose image cannot be spliced exactly."""


class UnreadableFileError(ManifestError):
    """A file that could not be opened or read at all (missing, no permission, a loop)."""


class DigestFileError(PinnerError):
    """A digest file (``--digests``) that cannot be read or has a malformed line."""


class ConfigError(PinnerError):
    """A bad ``.pinner.yaml`` or a bad combination of options."""


class RegistryError(PinnerError):
    """The registry could not tell us the digest (HTTP status, registry error code, network)."""


class AuthError(RegistryError):
    """Credentials could not be found, fetched or were refused."""


class WriteConflictError(PinnerError):
    """A file changed on disk between pinner's read and its write."""


class UnsafeWriteError(PinnerError):
    """A file pinner will not replace: that would lose something (a hard link, its owner, an
    attribute, what another program is still writing)."""

"""The errors pinner reports to people.

Library code raises these; only the CLI prints them. Every message is a full sentence that says
what went wrong, where, and what to do about it. Bugs are not user errors: they are not wrapped.
"""

from __future__ import annotations


class PinnerError(Exception):
    """A problem the user can act on. The message is printed as-is, without a traceback."""


class InvalidReferenceError(PinnerError):
    """An image reference that does not follow the distribution reference grammar."""


class ManifestError(PinnerError):
    """A file that cannot be read, decoded or parsed, or whose image cannot be spliced exactly."""


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

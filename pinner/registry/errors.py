"""Registry failures that carry what the CLI reports: the image, HTTP status, error code, hint.

Every failure while looking an image up is an :class:`ImageLookupError` (a ``RegistryError``)
with these attributes, so the CLI can list each file:line that uses the image and then say why:

- ``image``: the reference looked up (fully qualified), empty until the client knows it;
- ``cause``: what went wrong, as a sentence fragment;
- ``status``: the HTTP status, or ``None`` (network failure, bad content);
- ``code``: the registry's error code from the JSON body (``errors[].code``), or ``None``;
- ``hint``: what to do about it, as a full sentence.

The message is composed from them, e.g. ``Could not look up ghcr.io/o/app:1.0: the registry
refused the request (HTTP 401, UNAUTHORIZED). Run `docker login ghcr.io`.``
Messages never contain credentials or tokens.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, TypeVar

from pinner.errors import AuthError, Diagnostic, Location, RegistryError
from pinner.untrusted import continued, one_line

_E = TypeVar("_E", bound="ImageLookupError")

# The hint of an answer no registry should give: nothing the user can change will fix it.
OPERATORS_HINT = "Report it to the registry's operators."


class ImageLookupError(RegistryError):
    """The registry could not tell us about an image; see the module docstring."""

    def __init__(
        self,
        cause: str,
        *,
        image: str = "",
        status: int | None = None,
        code: str | None = None,
        hint: str = "",
    ) -> None:
        self.cause = cause
        self.image = image
        self.status = status
        self.code = code
        self.hint = hint
        super().__init__(self._compose())

    def _compose(self) -> str:
        subject = f"Could not look up {self.image}" if self.image else "A registry request failed"
        details = [f"HTTP {self.status}"] if self.status is not None else []
        if self.code:
            details.append(self.code)
        text = f"{subject}: {self.cause}"
        if details:
            text += f" ({', '.join(details)})"
        text += "."
        return f"{text} {self.hint}" if self.hint else text

    def with_image(self: _E, image: str) -> _E:
        """A fresh copy of this error that names ``image`` (raised errors are not reused)."""
        return type(self)(
            self.cause, image=image, status=self.status, code=self.code, hint=self.hint
        )


class ImageNotFoundError(ImageLookupError):
    """The registry has no such repository, tag or digest (HTTP 404)."""


class ImageAuthError(ImageLookupError, AuthError):
    """Credentials were missing, could not be fetched, or were refused (HTTP 401/403)."""


class CredentialUnavailableError(ImageLookupError, AuthError):
    """A credential source (helper, gcloud) failed; pinner goes on anonymously and says so if
    the registry then refuses."""


class PlatformNotFoundError(ImageLookupError):
    """An image index has no manifest for the requested platform."""


class HostUnreachableError(ImageLookupError):
    """A host's name does not resolve or nothing answers there. ``host`` says which: every
    image on it fails the same way, so the CLI reports them together, once."""

    def __init__(self, cause: str, *, host: str, image: str = "", hint: str = "") -> None:
        self.host = host
        super().__init__(cause, image=image, hint=hint)

    def with_image(self, image: str) -> HostUnreachableError:
        return HostUnreachableError(self.cause, host=self.host, image=image, hint=self.hint)

    def for_images(self, count: int) -> str:
        """The message for ``count`` images that all failed this way."""
        text = f"Could not look up {count} images on {self.host}: {self.cause}."
        return f"{text} {self.hint}" if self.hint else text


K = TypeVar("K")


def failure_report(failures: Mapping[K, object], where: Callable[[K], str]) -> list[str]:
    """One message per failed lookup, in order, each followed by ``used at <where(key)>``;
    except that all lookups on one host that could not be reached are one message, at the
    first one's place, naming each image with where it is used."""
    return [message for message, _ in failure_groups(failures, where)]


def failure_groups(
    failures: Mapping[K, object], where: Callable[[K], str]
) -> list[tuple[str, list[K]]]:
    """``failure_report``'s messages, each with the lookups it speaks for (so that a report can
    place it at every image it names)."""
    groups: list[list[K]] = []
    hosts: dict[str, list[K]] = {}
    for key, error in failures.items():
        if not isinstance(error, HostUnreachableError):
            groups.append([key])
        elif error.host in hosts:
            hosts[error.host].append(key)
        else:
            hosts[error.host] = [key]
            groups.append(hosts[error.host])
    messages = []
    for keys in groups:
        first = failures[keys[0]]
        # Each line made one line first (pinner.untrusted): a registry's text holds no line
        # break of its own once shown, so only these indented continuations start lines.
        if len(keys) == 1 or not isinstance(first, HostUnreachableError):
            messages.append((continued(str(first), f"used at {where(keys[0])}"), keys))
            continue
        uses = [
            f"  {one_line(str(getattr(failures[key], 'image', '')))} used at {one_line(where(key))}"
            for key in keys
        ]
        messages.append(("\n".join([one_line(first.for_images(len(keys))), *uses]), keys))
    return messages


class Place(Protocol):
    """Where an image is used (an ``ImageSite`` is one)."""

    @property
    def where(self) -> str: ...

    @property
    def location(self) -> Location: ...


def placed_failures(
    failures: Mapping[K, object], places: Callable[[K], Sequence[Place]]
) -> list[Diagnostic]:
    """Each failed lookup once, with every place that uses the image (a host that could not be
    reached once, with every image on it): in the message, and as the error's locations."""

    def where(key: K) -> str:
        return ", ".join(place.where for place in places(key))

    return [
        Diagnostic(message, tuple(place.location for key in keys for place in places(key)))
        for message, keys in failure_groups(failures, where)
    ]

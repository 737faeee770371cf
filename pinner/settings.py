"""One run's settings: the one type that ``.pinner.yaml``, the flags and the registry client share.

``pinner.config`` builds it once per command (the file, then the flags over it); the commands
read it, and the registry client takes it as it is. Every default is written here, once.
Imports only ``pinner.errors`` and the tables (``pinner.kinds``, ``pinner.helm_shapes``).
"""

from __future__ import annotations

from typing import NamedTuple

from pinner.errors import ConfigError
from pinner.helm_shapes import SHAPES, BlockShape
from pinner.kinds import Rule

DEFAULT_CONCURRENCY = 16  # registry lookups in flight at once
MAX_CONCURRENCY = 64
DEFAULT_PER_REGISTRY = 8  # of those, against one registry
DEFAULT_MAX_FILE_BYTES = 16 * 1024 * 1024  # a larger file (or stdin) is refused unread
DEFAULT_CONNECT_TIMEOUT = 10.0  # seconds
DEFAULT_READ_TIMEOUT = 30.0
DEFAULT_RETRIES = 3


class Settings(NamedTuple):
    """A NamedTuple, not a dataclass: it is built on every start-up, and a dataclass of this
    many fields costs a commit hook a millisecond or two more to define."""

    exempt: tuple[str, ...] = ()
    keep_tag: bool = False
    # The registry client's default platform; verify and tags use a copy without one.
    platform: str | None = None
    mirrors: tuple[tuple[str, str], ...] = ()  # (registry, host[:port] of its mirror)
    insecure_registries: frozenset[str] = frozenset()
    gcloud_hosts: frozenset[str] = frozenset()
    concurrency: int = DEFAULT_CONCURRENCY
    per_registry: int = DEFAULT_PER_REGISTRY
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    retries: int = DEFAULT_RETRIES
    exclude: tuple[str, ...] = ()
    max_file_size: int = DEFAULT_MAX_FILE_BYTES
    jobs: int | None = None  # None: one process per CPU for a large tree (pinner.manifests.workers)
    rules: tuple[Rule, ...] = ()
    # Image block shapes of Helm values: .pinner.yaml's helm_shapes, then the built-in ones.
    helm_shapes: tuple[BlockShape, ...] = SHAPES
    # Write `tag@sha256:...` into the tag of a values block that has no digest key.
    helm_digest_in_tag: bool = False
    config: str | None = None  # the file the settings came from, as messages name it

    def mirror_of(self, registry: str) -> str | None:
        """The host that serves ``registry``'s images instead of it, if one does."""
        return dict(self.mirrors).get(registry)

    def checked(self) -> Settings:
        """These settings, if a registry client can work with them; ConfigError if not. (The
        file and the flags are checked as they are read; this guards settings built in code.)"""
        for registry, mirror in self.mirrors:
            if not mirror or "/" in mirror:
                raise ConfigError(f"The mirror for {registry} must be host[:port], not {mirror!r}.")
        if self.concurrency < 1 or self.per_registry < 1 or self.retries < 0:
            raise ConfigError("Concurrency limits must be at least 1 and retries at least 0.")
        return self

"""The registry client: tags to digests, manifests and tag lists over the distribution API.

One ``RegistryClient`` per run takes the run's ``pinner.settings.Settings`` as it is (insecure
registries, mirrors, gcloud hosts, default platform, limits, timeouts, retries); it is a context
manager, thread-safe, and reuses connections. A tag's digest comes from a ``HEAD`` and its
``Docker-Content-Digest``, with a ``GET`` and the sha256 of the body only when HEAD gives no
usable digest or is unsupported (400/405/501), as ``crane digest`` does; with a platform, from
the matching child of an index. Manifests fetched are verified against the header and the digest
asked for; tag lists are read page by page, and capped, by :mod:`pinner.registry.taglists`.

Failures are ``pinner.registry.errors.ImageLookupError`` (and subclasses) naming the image
(:mod:`pinner.registry.failures` names them). Schema 1 manifests and unexpected media types are
refused; bodies are capped at 4 MiB.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import NamedTuple

import httpx

from pinner.reference import DOCKER_HUB, Reference
from pinner.registry import deadline
from pinner.registry.errors import ImageLookupError, ImageNotFoundError
from pinner.registry.exchange import Reply
from pinner.registry.failures import about, mismatch, registry_error, reply_failure
from pinner.registry.keychains import Keychain, default_keychain, is_google_host
from pinner.registry.mediatypes import (
    ACCEPT,
    GENERIC_TYPES,
    INDEX_TYPES,
    check_media_type,
    content_type,
    hash_matches,
    header_digest,
    json_object,
    media_type_of,
)
from pinner.registry.platforms import parse_platform, select_manifest
from pinner.registry.session import Endpoint, RegistrySession
from pinner.registry.taglists import TAGS_LIMIT, TagList, read_tag_list
from pinner.registry.transport import Transport
from pinner.settings import Settings

log = logging.getLogger(__name__)

MANIFEST_HEADERS = {"Accept": ACCEPT, "Accept-Encoding": "identity"}
HEAD_UNSUPPORTED = frozenset({400, 405, 501})
MANIFEST_LIMIT = 4 * 1024 * 1024
HUB_API_HOST = "registry-1.docker.io"


class Manifest(NamedTuple):
    media_type: str
    body: bytes
    digest: str


class RegistryClient:
    def __init__(
        self,
        settings: Settings | None = None,
        keychain: Keychain | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = (settings or Settings()).checked()
        timeout = httpx.Timeout(self.settings.read_timeout, connect=self.settings.connect_timeout)
        self._transport = Transport(
            insecure=self.settings.insecure_registries,
            timeout=timeout,
            retries=self.settings.retries,
            max_connections=self.settings.concurrency,
            sleep=sleep,
            transport=transport,
        )
        self._run_ends = time.monotonic() + self.settings.run_timeout
        self._session = RegistrySession(
            keychain or default_keychain(self.settings.gcloud_hosts),
            self._transport,
            gcloud_hosts=self.settings.gcloud_hosts,
            clock=clock,
        )

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._transport.close()

    def endpoint(self, registry: str) -> Endpoint:
        mirror = self.settings.mirror_of(registry)
        if mirror:
            return Endpoint(mirror, mirror)
        return Endpoint(registry, HUB_API_HOST if registry == DOCKER_HUB else registry)

    @contextmanager
    def _lookup(self) -> Iterator[None]:
        """One lookup's deadline (an earlier one already set stays, e.g. the run's)."""
        left = max(self._run_ends - time.monotonic(), 0.0)
        with (
            deadline.within(left, "the run"),
            deadline.within(self.settings.lookup_timeout, "--timeout"),
        ):
            yield

    def resolve(self, ref: Reference, platform: str | None = None) -> str:
        wanted = platform or self.settings.platform
        target = ref.digest or ref.tag_or_default
        with about(ref.canonical), self._lookup():
            if wanted is None:
                return self._head_digest(ref, target)
            chosen = parse_platform(wanted)
            manifest = self.fetch_manifest(ref, target)
            if manifest.media_type not in INDEX_TYPES:
                return manifest.digest
            return select_manifest(json_object(manifest.body), chosen)

    def manifest_exists(self, ref: Reference, digest: str) -> bool:
        with about(f"{ref.registry}/{ref.repository}@{digest}"), self._lookup():
            reply = self._manifest_request("HEAD", ref, digest)
            if reply.status == 404:
                return False
            if reply.status == 200:
                header = header_digest(reply.headers)
                if header is not None and header != digest:
                    raise mismatch("the registry answered with another digest")
                return True
            if reply.status in HEAD_UNSUPPORTED:
                try:
                    self.fetch_manifest(ref, digest)
                except ImageNotFoundError:
                    return False
                return True
            raise self._failure(ref, reply)

    def fetch_manifest(self, ref: Reference, digest_or_tag: str) -> Manifest:
        separator = "@" if ":" in digest_or_tag else ":"
        with about(f"{ref.registry}/{ref.repository}{separator}{digest_or_tag}"), self._lookup():
            reply = self._manifest_request("GET", ref, digest_or_tag)
            if reply.status != 200:
                raise self._failure(ref, reply)
            media_type = media_type_of(reply.headers, reply.body)
            check_media_type(media_type)
            header = header_digest(reply.headers)
            if header is not None and hash_matches(header, reply.body) is False:
                raise mismatch("the Docker-Content-Digest header does not match the manifest")
            digest = "sha256:" + hashlib.sha256(reply.body).hexdigest()
            if separator == "@":
                if not hash_matches(digest_or_tag, reply.body):
                    raise mismatch("the manifest does not match the requested digest")
                digest = digest_or_tag
            return Manifest(media_type, reply.body, digest)

    def list_tags(self, ref: Reference) -> TagList:
        endpoint = self.endpoint(ref.registry)
        google = is_google_host(endpoint.host, self.settings.gcloud_hosts)
        # ECR rejects n > 1000; Google serves a whole repository in one large page.
        first_page = f"/v2/{ref.repository}/tags/list?n={10000 if google else 1000}"

        def fetch(path: str) -> Reply:
            with self._lookup():  # each page is a lookup of its own
                return self._session.request(
                    "GET", endpoint, path, scope=_scope(ref), limit=TAGS_LIMIT
                )

        with about(f"{ref.registry}/{ref.repository}"):
            return read_tag_list(
                first_page, endpoint.host, fetch, lambda reply: self._failure(ref, reply)
            )

    def _head_digest(self, ref: Reference, target: str) -> str:
        reply = self._manifest_request("HEAD", ref, target)
        if reply.status == 200:
            media_type = content_type(reply.headers)
            digest = header_digest(reply.headers)
            if media_type not in GENERIC_TYPES:
                check_media_type(media_type)
                # A HEAD's digest is taken on trust only as sha256, the digest pinner writes:
                # for any other algorithm, GET the body and hash it (and check the header).
                if digest is not None and digest.startswith("sha256:"):
                    if ":" in target and digest != target:
                        raise mismatch("the registry answered with another digest")
                    return digest
            log.debug("HEAD %s gave no usable digest; falling back to GET", ref.canonical)
        elif reply.status not in HEAD_UNSUPPORTED and reply.status != 403:
            raise self._failure(ref, reply)
        # A 403 to HEAD has no body: GET once to learn the registry's error code, as containerd.
        return self.fetch_manifest(ref, target).digest

    def _manifest_request(self, method: str, ref: Reference, target: str) -> Reply:
        return self._session.request(
            method,
            self.endpoint(ref.registry),
            f"/v2/{ref.repository}/manifests/{target}",
            scope=_scope(ref),
            headers=MANIFEST_HEADERS,
            limit=MANIFEST_LIMIT,
        )

    def _failure(self, ref: Reference, reply: Reply) -> ImageLookupError:
        endpoint = self.endpoint(ref.registry)
        if reply.status in (401, 403):
            code = registry_error(reply.body)[0]
            return self._session.auth_failure(endpoint, reply.status, code)
        return reply_failure(endpoint.host, reply)


def _scope(ref: Reference) -> str:
    return f"repository:{ref.repository}:pull"

"""A repository's tag list, read page by page (``Link: <...>; rel="next"``, same host only),
with gcr.io's map of digests to tags and media types when it is sent.

Tag lists are capped: a link back to a page already read, more than ``MAX_TAG_PAGES`` pages,
``MAX_TAGS`` tags or ``TAGS_TOTAL_LIMIT`` bytes in all are refused. The requests themselves are
the client's (``pinner.registry.client.RegistryClient.list_tags``): this module reads what they
bring back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

from pinner.registry.errors import ImageLookupError
from pinner.registry.exchange import Reply
from pinner.registry.mediatypes import REPORT_HINT, json_object
from pinner.registry.urls import url_host

TAGS_LIMIT = 16 * 1024 * 1024  # one page
# All pages together: a registry can link page after page forever (each within the page cap).
TAGS_TOTAL_LIMIT = 32 * 1024 * 1024
MAX_TAGS = 200_000
MAX_TAG_PAGES = 1000


class TaggedManifest(NamedTuple):
    media_type: str
    tags: tuple[str, ...]


class TagList(NamedTuple):
    tags: tuple[str, ...]
    manifests: Mapping[str, TaggedManifest]


def read_tag_list(
    first_page: str,
    host: str,
    fetch: Callable[[str], Reply],
    failure: Callable[[Reply], ImageLookupError],
) -> TagList:
    """Every page from ``first_page`` (a path on ``host``), each one got by ``fetch(path)``;
    an answer other than 200 raises ``failure(reply)``."""
    path: str | None = first_page
    tags: list[str] = []
    manifests: dict[str, TaggedManifest] = {}
    seen: set[str] = set()
    budget = TAGS_TOTAL_LIMIT
    for _ in range(MAX_TAG_PAGES):
        if path is None:
            return TagList(tuple(tags), manifests)
        if path in seen:
            raise ImageLookupError(
                "the tag list's next-page link points back at a page already read",
                hint=REPORT_HINT,
            )
        seen.add(path)
        reply = fetch(path)
        budget -= len(reply.body)
        if reply.status != 200:
            raise failure(reply)
        data = json_object(reply.body)
        listed = data.get("tags")
        if isinstance(listed, list):
            tags.extend(tag for tag in listed if isinstance(tag, str))
        manifests.update(_google_manifests(data.get("manifest")))
        if budget < 0 or len(tags) > MAX_TAGS:
            raise ImageLookupError(
                f"the tag list is longer than pinner reads (more than {MAX_TAGS} tags "
                f"or {TAGS_TOTAL_LIMIT // (1024 * 1024)} MiB in all)",
                hint=REPORT_HINT,
            )
        path = _next_page(reply, host)
    raise ImageLookupError(f"the tag list has more than {MAX_TAG_PAGES} pages", hint=REPORT_HINT)


def _google_manifests(raw: object) -> dict[str, TaggedManifest]:
    if not isinstance(raw, dict):
        return {}
    found = {}
    for digest, info in raw.items():
        if isinstance(digest, str) and isinstance(info, dict):
            tags = tuple(tag for tag in info.get("tag") or [] if isinstance(tag, str))
            media_type = info.get("mediaType")
            found[digest] = TaggedManifest(media_type if isinstance(media_type, str) else "", tags)
    return found


def _next_page(reply: Reply, host: str) -> str | None:
    for link in reply.headers.get_list("link", split_commas=True):
        target, _, params = link.partition(";")
        if 'rel="next"' not in params.replace(" ", "") and "rel=next" not in params:
            continue
        url = reply.url.join(target.strip().strip("<>"))
        if url_host(url) != host:
            raise ImageLookupError(
                f"the next-page link of the tag list points at another host ({url_host(url)})",
                hint=REPORT_HINT,
            )
        return url.raw_path.decode("ascii")
    return None

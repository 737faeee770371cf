"""What the finder reports: each image it found, with exactly where it is, and each it passed over.

``ImageSite`` is one image value in one file; the ``[start:end]`` span is what ``pin`` rewrites.
Where the text holds no whole image to rewrite, a slot says what goes there instead:
``ValueSlot`` for an image block in Helm values, ``DigestSlot`` for a kustomize ``images`` entry.
``Skipped`` is an image or a file passed over on purpose. Records only: no parsing, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from pinner.errors import Location
from pinner.manifests.aliases import AliasUse


class Skipped(NamedTuple):
    """What a scan passed over on purpose: a file or an image pinner cannot read without rendering.

    Skipping is not failing (a repository with charts still passes ``check``), but it is never
    silent: every command counts what it skipped, lists it in ``--format json`` and gives each a
    ``::warning`` under ``--format github``.
    """

    path: str
    line: int  # 1-based; 0 when the whole file was skipped
    column: int
    message: str  # a full sentence naming the place, the reason and what to do


class ValueSlot(NamedTuple):
    """How ``pin`` writes the digest of one values image block."""

    key: str  # "digest": into the block's digest value; "tag": the block has no digest key
    tag: str  # the tag the digest is for, without any digest written into it
    flow: bool  # the block is a flow mapping ({...}): the value written is quoted
    chart: str  # the chart (or object) holding the block, for one notice per chart


class DigestSlot(NamedTuple):
    """How a kustomize ``images`` entry takes its digest (``pinner.manifests.kustomize``).

    The site's ``[start:end]`` is the entry's ``digest`` value, or the empty span where a new
    ``digest`` key goes; the digest alone is written there, in the site's quotes, between
    ``before`` and ``after`` (the new key, its indentation and line end).
    """

    before: str = ""
    after: str = ""


class ImageSite(NamedTuple):
    """One image value in one file: what it says and exactly where it is."""

    path: str
    line: int  # 1-based, of the first character of the scalar (a quote, if quoted)
    column: int  # 1-based
    start: int  # offset of the scalar text (quotes included) in the file's text
    end: int
    kind: str
    name: str  # metadata.name of the object
    field: str  # containers, initContainers, ephemeralContainers, volumes, or a rule's path
    container: str  # the container's (or volume's) name
    image: str  # the value, as YAML reads it
    quote: str  # "", "'" or '"': how the scalar is written
    problem: str | None  # why this scalar cannot be spliced exactly, if it cannot
    # For an image block in Helm values: how pin writes its digest (``image`` is then the
    # reference the block renders to, and the span is its digest's or its tag's value).
    slot: ValueSlot | None = None
    # An anchored image's aliases used where no image goes: pinning changes them too.
    aliases: tuple[AliasUse, ...] = ()
    digest_slot: DigestSlot | None = None  # set for a kustomize images entry

    @property
    def where(self) -> str:
        """``path:line:column``, as messages name the place."""
        return f"{self.path}:{self.line}:{self.column}"

    @property
    def location(self) -> Location:
        """The place, as errors and reports carry it."""
        return Location(self.path, self.line, self.column, self.image)


class Found(NamedTuple):
    """What ``find_all`` read in one text: its images, and those it had to pass over."""

    sites: list[ImageSite]
    skipped: list[Skipped]


def locations(sites: Iterable[ImageSite]) -> str:
    """``a.yaml:3:14, b.yaml:9:16``: every place, for a message about an image used in several."""
    return ", ".join(site.where for site in sites)

"""What the commands say about Helm values image blocks that have no ``digest`` key.

Such a block renders as ``repository:tag``; pin fills no key that is not there, because only the
chart's templates know whether they would use it. So pin leaves the block alone (unless told to
write ``tag@sha256:...`` into its tag), ``check`` reports it as not pinned, and both say once per
chart what the user can do.
"""

from __future__ import annotations

from collections.abc import Iterable

from pinner.errors import Diagnostic, Location
from pinner.manifests.sites import ImageSite, Skipped
from pinner.policy import is_pinned

OPT_IN_FLAG = "--helm-digest-in-tag"
OPT_IN_KEY = "helm_digest_in_tag"


def _where(site: ImageSite) -> str:
    return f"{site.path}:{site.line}:{site.column}"


def without_digest_key(site: ImageSite) -> bool:
    """An unpinned values image block that has no digest key to fill."""
    return site.slot is not None and site.slot.key == "tag" and not is_pinned(site.image)


def digest_key_notices(sites: Iterable[ImageSite]) -> list[Diagnostic]:
    """One notice per chart (or object) for the blocks with no digest key, in order found."""
    charts: dict[str, list[ImageSite]] = {}
    for site in sites:
        if site.slot is not None and without_digest_key(site):
            charts.setdefault(site.slot.chart, []).append(site)
    notices = []
    for chart, blocks in charts.items():
        count = "1 image block has" if len(blocks) == 1 else f"{len(blocks)} image blocks have"
        places = ", ".join(f"{_where(site)} {site.field}" for site in blocks)
        message = (
            f"{chart}: {count} no digest key, so pin leaves the tag alone ({places}). Add "
            f'digest: "" to each block where the chart\'s templates use one; or pass '
            f"{OPT_IN_FLAG} ({OPT_IN_KEY}: true in .pinner.yaml) to write the tag as "
            "tag@sha256:..., for templates that join repository:tag; or render the chart "
            "(helm template ... | pinner pin -)."
        )
        places_as_data = (Location(s.path, s.line, s.column, s.image) for s in blocks)
        notices.append(Diagnostic(message, tuple(places_as_data)))
    return notices


def skipped_block(site: ImageSite) -> Skipped:
    """A block pin did not write, as ``--format json`` and ``github`` list it."""
    message = (
        f"{_where(site)}: skipped: {site.image} ({site.field}) has no digest key; "
        f"pin writes one only into its tag, with {OPT_IN_FLAG}."
    )
    return Skipped(site.path, site.line, site.column, message)

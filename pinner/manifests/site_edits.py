"""The edit that pins one image site: what replaces its ``[start:end]`` span in the text.

An image written whole gets the new reference, in the scalar's own quotes. A Helm values block
(``ValueSlot``) gets the digest in its ``digest`` value, or ``tag@digest`` in its tag; a kustomize
``images`` entry (``DigestSlot``) gets the digest alone. Kept apart from the finder so that
``check``, which never writes, does not load the writing code.
"""

from __future__ import annotations

from pinner.manifests.rewrite import Edit
from pinner.manifests.sites import ImageSite, ValueSlot


def site_edit(text: str, site: ImageSite, new_image: str, digest: str) -> Edit:
    """The edit that writes ``new_image`` (or just ``digest``, where a slot says so) at ``site``."""
    if site.slot is not None:
        return value_edit(text, site.start, site.end, site.quote, site.slot, digest)
    old = text[site.start : site.end]
    if site.digest_slot is not None:  # a kustomize entry: only its digest is written
        before, after = site.digest_slot
        return Edit(site.start, site.end, old, f"{before}{site.quote}{digest}{site.quote}{after}")
    return Edit(site.start, site.end, old, f"{site.quote}{new_image}{site.quote}")


def value_edit(text: str, start: int, end: int, quote: str, slot: ValueSlot, digest: str) -> Edit:
    """The edit that writes ``digest`` into the block's slot, at the scalar ``[start:end]``."""
    value = digest if slot.key == "digest" else f"{slot.tag}@{digest}"
    if quote or slot.flow:
        # libyaml (and older YAML readers) refuse a colon in a plain scalar inside {...}.
        mark = quote or '"'
        value = f"{mark}{value}{mark}"
    if start == end and (start == 0 or text[start - 1] not in " \t"):
        value = f" {value}"  # `digest:` with nothing after it: the value needs its blank
    return Edit(start, end, text[start:end], value)

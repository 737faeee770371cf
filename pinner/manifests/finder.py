"""Every image in one text, with the exact span of each: the finder's entry point.

``find_all`` parses the text only to find positions (``yamlnodes``, with ``skim`` passing over
documents that cannot hold an image), walks each document for images
(``pinner.manifests.objects``; where they live is data in ``pinner.kinds``) and reports what it
found as ``pinner.manifests.sites`` records. No network, no writes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from pinner.errors import Location, ManifestError
from pinner.helm_shapes import SHAPES, VALUES_KINDS, BlockShape
from pinner.kinds import Rule
from pinner.manifests.aliases import alias_uses
from pinner.manifests.charts import Chart
from pinner.manifests.objects import POD_SPEC_PATHS, ImageCollector
from pinner.manifests.sites import Found, ImageSite
from pinner.manifests.skim import compose_relevant
from pinner.manifests.yamlnodes import (
    LineIndex,
    MarkedYAMLError,
    Node,
    invalid_yaml,
    iter_documents,
    strip_document_boms,
)


class TemplateFile(ManifestError):
    """The file is a Go/Helm template; it must be rendered before pinner can read it."""


def find_images(text: str, path: str, rules: Sequence[Rule] = ()) -> list[ImageSite]:
    """Every image in ``text`` in document order (``find_all`` without what it skipped)."""
    return find_all(text, path, rules).sites


def find_all(
    text: str,
    path: str,
    rules: Sequence[Rule] = (),
    *,
    shapes: Sequence[BlockShape] = SHAPES,
    chart: Chart | None = None,
) -> Found:
    """Every image in ``text`` in document order, and the images skipped because they hold a
    template expression. Raises ManifestError for unusable input, TemplateFile for a template
    that is not YAML.

    ``chart``: the text is that chart's values file, read for image blocks of ``shapes``.
    """
    # The parsers read the text without the BOMs that begin later documents; offsets are mapped
    # back to ``text``, which is what gets spliced.
    parsed, boms = strip_document_boms(text)
    collector = ImageCollector(text, path, rules, shapes, LineIndex(parsed, boms))
    visit: Callable[[Node], None] = collector.visit_object
    if chart is not None:
        visit = partial(collector.visit_chart_values, chart=chart)
    # Documents the finder would get nothing from (no image, nothing to check) are not composed;
    # a values file is composed whole (its image blocks need not say "image").
    compose_kinds = {*POD_SPEC_PATHS, *VALUES_KINDS, *(rule.kind for rule in rules)}
    # Documents are read one at a time, so memory follows the largest document. Invalid YAML is
    # still reported before what the finder objects to, wherever each is in the file.
    objection: ManifestError | None = None
    try:
        documents = iter_documents(parsed) if chart else compose_relevant(parsed, compose_kinds)
        for root in documents:
            if objection is None:
                try:
                    visit(root)
                except ManifestError as exc:
                    objection = exc
            collector.forget_nodes()  # anchors are per document: free it before the next one
    except MarkedYAMLError as exc:
        raise _not_yaml(exc, text, path) from None
    if objection is not None:
        raise objection
    return _in_file_order(collector, parsed)


def _not_yaml(exc: MarkedYAMLError, text: str, path: str) -> ManifestError:
    """Why ``text`` could not be read: a template (skipped), or the parser's words and place."""
    if "{{" in text:
        return TemplateFile(
            f"{path}: skipped: this looks like a Go/Helm template ('{{{{'); render it first "
            "(helm template ... | pinner pin -)."
        )
    mark = exc.problem_mark or exc.context_mark
    place = Location(path, mark.line + 1, mark.column + 1) if mark else Location(path)
    return ManifestError(f"{invalid_yaml(exc, path)}. Fix the syntax.", at=[place])


def _in_file_order(collector: ImageCollector, parsed: str) -> Found:
    """What ``collector`` found in ``parsed``, with each image's aliases, in file order."""
    if collector.anchored:
        uses = alias_uses(parsed, collector.anchored)
        collector.sites = [
            site._replace(aliases=tuple(uses.get(collector.site_nodes[index], ())))
            for index, site in enumerate(collector.sites)
        ]
    # Pod spec fields are visited by name; report them as they appear in the file. An image that
    # a template fills in is passed over, once however many aliases show it; the rest is read.
    sites: list[ImageSite] = []
    for site in sorted(collector.sites, key=lambda site: site.start):
        if "{{" in site.image and site.slot is None:
            collector.skip_template(site.line, site.column, site.field, site.container)
        else:
            sites.append(site)
    # One per place in the text: aliases of a templated image share it.
    places = {(skip.line, skip.column): skip for skip in reversed(collector.skipped)}
    return Found(sites, sorted(places.values(), key=lambda skip: (skip.line, skip.column)))

"""Image blocks in Helm values: shapes, registries, tags, what is skipped, and where pin writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from pinner.helm_shapes import SHAPES, BlockShape
from pinner.manifests.charts import Chart, app_version, chart_of, is_values_name
from pinner.manifests.finder import find_all
from pinner.manifests.rewrite import apply_edits
from pinner.manifests.site_edits import value_edit
from pinner.manifests.sites import Found, ValueSlot
from pinner.manifests.yamlnodes import compose_documents

CHART = Chart("chart", "9.9.9")
DIGEST = "sha256:" + "a" * 64


def values(
    text: str, *, chart: Chart | None = CHART, shapes: tuple[BlockShape, ...] = SHAPES
) -> Found:
    return find_all(text, "values.yaml", shapes=shapes, chart=chart)


def images(text: str, **kwargs: object) -> list[str]:
    return [site.image for site in values(text, **kwargs).sites]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "image"),
    [
        (
            "image: {registry: docker.io, repository: acme/web, tag: '1', digest: ''}\n",
            "docker.io/acme/web:1",
        ),
        ("image: {registry: '', repository: acme/web, tag: '1'}\n", "acme/web:1"),
        ("image: {registry: r.io, image: acme/web, tag: v1, digest: ''}\n", "r.io/acme/web:v1"),
        ("image: {repository: ghcr.io/acme/web, tag: '2'}\n", "ghcr.io/acme/web:2"),
        ("a: {b: [{image: {repository: web, tag: '3'}}]}\n", "web:3"),
        # A digest already filled is part of the reference: the block is pinned.
        (f"image: {{repository: web, tag: '3', digest: '{DIGEST}'}}\n", f"web:3@{DIGEST}"),
        # Written into the tag (--helm-digest-in-tag) counts as pinned too.
        (f"image: {{repository: web, tag: '3@{DIGEST}'}}\n", f"web:3@{DIGEST}"),
    ],
)
def test_shapes(text: str, image: str) -> None:
    assert images(text) == [image]


def test_not_blocks() -> None:
    # No tag key; no repository; an ingress-nginx-like {image, tag} with no registry anywhere.
    text = (
        "a: {repository: web}\nb: {tag: '1'}\nc: {image: web, tag: '1'}\n"
        "d: {repository: '', tag: '1'}\n"
    )
    found = values(text)
    assert (found.sites, found.skipped) == ([], [])


def test_global_registries() -> None:
    bitnami = (
        "global: {imageRegistry: mirror.io}\n"
        "image: {registry: docker.io, repository: web, tag: '1'}\n"
    )
    assert images(bitnami) == ["mirror.io/web:1"]  # bitnami: the global one wins
    nginx = (
        "global: {image: {registry: g.io}}\na: {image: web, tag: '1'}\n"
        "b: {registry: b.io, image: api, tag: '2'}\n"
    )
    assert images(nginx) == ["g.io/web:1", "b.io/api:2"]  # ingress-nginx: it fills in
    empty = "global: {imageRegistry: ''}\nimage: {registry: docker.io, repository: web, tag: '1'}\n"
    assert images(empty) == ["docker.io/web:1"]


def test_an_empty_tag_is_the_app_version() -> None:
    assert images("image: {repository: web, tag: ''}\n") == ["web:9.9.9"]
    assert images("image: {repository: web, tag: null}\n") == ["web:9.9.9"]
    assert images("image: {repository: web, tag: 'null'}\n") == ["web:null"]  # quoted: a string
    found = values("image: {repository: web, tag: ''}\n", chart=Chart("chart", None))
    assert found.sites == []
    assert [skip.message for skip in found.skipped] == [
        "values.yaml:1:8: skipped: the image block image has an empty tag, which the chart's "
        "templates usually replace with its appVersion, and chart/Chart.yaml has no appVersion. "
        "Write the tag, or render the chart first (helm template ... | pinner pin -)."
    ]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "image: {repository: '{{ .Values.repo }}', tag: '1'}\n",
            "holds a Go/Helm template expression",
        ),
        (
            "global: {imageRegistry: '{{ .x }}'}\nimage: {registry: a, repository: b, tag: c}\n",
            "holds a Go/Helm",
        ),
        (
            "image: {repository: Web, tag: '1'}\n",
            "reads as 'Web:1', which is not an image reference",
        ),
        (
            "image: {repository: web, tag: '1', digest: [x]}\n",
            "has a 'digest' that is not a string",
        ),
        ("image: {repository: web, tag: '1', digest: latest}\n", "which is not an image reference"),
    ],
)
def test_what_is_skipped(text: str, reason: str) -> None:
    found = values(text)
    assert found.sites == []
    (skip,) = found.skipped
    assert reason in skip.message
    assert skip.message.startswith(
        f"values.yaml:{skip.line}:{skip.column}: skipped: the image block "
    )


def test_fields_slots_and_positions() -> None:
    text = (
        "sidecars:\n"
        "  - image:\n"
        "      repository: web\n"
        "      tag: '1'\n"
        "      digest: ''\n"
        "  - image: {repository: api, tag: '2'}\n"
    )
    first, second = values(text).sites
    assert (first.field, first.line, first.column, first.quote) == ("sidecars[0].image", 5, 15, "'")
    assert first.slot == ValueSlot("digest", "1", False, "chart chart")
    assert (second.field, second.line, second.column) == ("sidecars[1].image", 6, 35)
    assert second.slot == ValueSlot("tag", "2", True, "chart chart")
    assert (first.kind, first.name, first.container) == ("HelmValues", "", "")


def test_an_aliased_block_is_one_image() -> None:
    text = "a:\n  image: &img {repository: web, tag: '1', digest: ''}\nb:\n  image: *img\n"
    assert images(text) == ["web:1"]


def test_values_outside_a_chart_are_not_read() -> None:
    assert images("image: {repository: web, tag: '1'}\n", chart=None) == []


def test_user_shapes_come_first() -> None:
    tigera = BlockShape("tigera", repository="image", tag="version", registry="registry")
    text = "op: {image: tigera/operator, version: v1, registry: quay.io}\n"
    assert images(text) == []
    assert images(text, shapes=(tigera, *SHAPES)) == ["quay.io/tigera/operator:v1"]


@pytest.mark.parametrize(
    ("text", "slot", "expected"),
    [
        ("digest: ''\n", ValueSlot("digest", "1", False, ""), f"digest: '{DIGEST}'\n"),
        ('digest: ""\n', ValueSlot("digest", "1", False, ""), f'digest: "{DIGEST}"\n'),
        ("digest: null\n", ValueSlot("digest", "1", False, ""), f"digest: {DIGEST}\n"),
        ("digest:\n", ValueSlot("digest", "1", False, ""), f"digest: {DIGEST}\n"),
        ("digest:", ValueSlot("digest", "1", False, ""), f"digest: {DIGEST}"),
        ("digest:   # c\n", ValueSlot("digest", "1", False, ""), f"digest: {DIGEST}   # c\n"),
        (
            "{digest: , x: 1}\n",
            ValueSlot("digest", "1", True, ""),
            f'{{digest: "{DIGEST}", x: 1}}\n',
        ),
        ("tag: 1.27\n", ValueSlot("tag", "1.27", False, ""), f"tag: 1.27@{DIGEST}\n"),
        ("tag: ''\n", ValueSlot("tag", "9.9", False, ""), f"tag: '9.9@{DIGEST}'\n"),
        ("{tag: v1}\n", ValueSlot("tag", "v1", True, ""), f'{{tag: "v1@{DIGEST}"}}\n'),
    ],
)
def test_value_edit(text: str, slot: ValueSlot, expected: str) -> None:
    """The span is where libyaml puts the value (an empty one: where it would start)."""
    (root,) = compose_documents(text)
    value = next(node for key, node in root.value if key.value == slot.key)
    start, end = value.start_mark.index, value.end_mark.index
    quote = value.style if value.style in ("'", '"') else ""
    edit = value_edit(text, start, end, quote, slot, DIGEST)
    assert apply_edits(text, [edit]) == expected


def test_charts(tmp_path: Path) -> None:
    (tmp_path / "Chart.yaml").write_text("apiVersion: v2\nname: c\nappVersion: '1.2'\n")
    for name in ("values.yaml", "values-prod.yaml", "values.prod.yml"):
        assert is_values_name(name)
        assert chart_of(str(tmp_path / name), f"c/{name}") == Chart("c", "1.2")
    assert not is_values_name("my-values.yaml") and not is_values_name("values.json")
    assert chart_of(str(tmp_path / "deployment.yaml"), "c/deployment.yaml") is None
    lone = tmp_path / "lone"
    lone.mkdir()
    assert chart_of(str(lone / "values.yaml"), "values.yaml") is None


@pytest.mark.parametrize(
    "text",
    [
        "apiVersion: v2\nname: c\n",
        "appVersion: ~\n",
        "appVersion: [1]\n",
        "a: [\n",
        "- 1\n",
        "a: 1\n---\nb: 2\n",
    ],
)
def test_charts_without_a_usable_app_version(tmp_path: Path, text: str) -> None:
    (tmp_path / "Chart.yaml").write_text(text)
    assert app_version(str(tmp_path)) is None

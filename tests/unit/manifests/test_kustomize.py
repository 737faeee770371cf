"""Kustomizations: which documents are ones, and what their images entries say and where."""

from __future__ import annotations

import pytest

from pinner.errors import ManifestError
from pinner.manifests.kustomize import Include, read_kustomizations
from pinner.manifests.sites import DigestSlot

HEAD = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
DIGEST = "sha256:" + "a" * 64


def images(text: str, path: str = "k.yaml") -> list[tuple[int, int, str, str, str, str]]:
    """(line, column, kind, field, container, image) of every entry site."""
    return [
        (site.line, site.column, site.kind, site.field, site.container, site.image)
        for _, sites in read_kustomizations(text, path)
        for site in sites
    ]


def test_entries_that_set_a_tag_or_digest_are_sites_at_their_line_and_column() -> None:
    text = HEAD + (
        "images:\n"
        "  - name: nginx\n"
        "    newTag: '1.25'\n"
        "  - {name: my-app, newName: ghcr.io/acme/app, newTag: v2}\n"
        f"  - name: redis\n    newTag: '7'\n    digest: {DIGEST}\n"
        f"  - name: busybox\n    digest: {DIGEST}\n"
        "  - name: only-renamed\n    newName: ghcr.io/acme/other\n"
    )
    assert images(text) == [
        (4, 5, "Kustomization", "images", "nginx", "nginx:1.25"),
        (6, 5, "Kustomization", "images", "my-app", "ghcr.io/acme/app:v2"),
        (7, 5, "Kustomization", "images", "redis", f"redis:7@{DIGEST}"),
        (10, 5, "Kustomization", "images", "busybox", f"busybox@{DIGEST}"),
    ]


def test_a_pinned_entry_points_at_its_digest_value_and_a_new_one_at_the_new_key() -> None:
    text = (
        HEAD
        + f"images:\n- name: a\n  newTag: '1'\n  digest: \"{DIGEST}\"\n- name: b\n  newTag: '2'\n"
    )
    [(_, sites)] = read_kustomizations(text, "k.yaml")
    pinned, new = sites
    assert text[pinned.start : pinned.end] == f'"{DIGEST}"'
    assert (pinned.quote, pinned.digest_slot, pinned.problem) == ('"', DigestSlot(), None)
    assert new.start == new.end == len(text)
    assert (new.quote, new.digest_slot) == ("'", DigestSlot("  digest: ", "\n"))


@pytest.mark.parametrize(
    ("path", "text", "kinds"),
    [
        # kustomize's own file names need no kind at all.
        ("base/kustomization.yaml", "images:\n- {name: a, newTag: '1'}\n", ["Kustomization"]),
        ("base/kustomization.yml", "images:\n- {name: a, newTag: '1'}\n", ["Kustomization"]),
        ("base/Kustomization", "images:\n- {name: a, newTag: '1'}\n", ["Kustomization"]),
        # Elsewhere, the kind in kustomize's API group says so.
        ("any.yaml", HEAD + "images: []\n", ["Kustomization"]),
        (
            "c.yaml",
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n",
            ["Component"],
        ),
        # Not one: Flux's Kustomization, a kindless file of another name, a Deployment.
        ("flux.yaml", "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n", []),
        ("plain.yaml", "images:\n- {name: a, newTag: '1'}\n", []),
        ("kustomization.yaml", "apiVersion: apps/v1\nkind: Deployment\n", []),
    ],
)
def test_which_documents_are_kustomizations(path: str, text: str, kinds: list[str]) -> None:
    assert [k.kind for k, _ in read_kustomizations(text, path)] == kinds


def test_includes_keep_their_field_and_line() -> None:
    text = HEAD + "resources:\n- deploy.yaml\n- ../base\nbases: [../old]\ncomponents:\n- ../c\n"
    [(kustomization, _)] = read_kustomizations(text, "k.yaml")
    assert kustomization.includes == (
        Include("resources", "deploy.yaml", 4),
        Include("resources", "../base", 5),
        Include("components", "../c", 8),
        Include("bases", "../old", 6),
    )


@pytest.mark.parametrize(
    ("images_text", "message"),
    [
        ("- nginx:1.25\n", "k.yaml:4:3: an images entry must be a mapping"),
        ("- newTag: '1'\n", "k.yaml:4:3: an images entry has no name"),
        ("- name: a\n  newTag: [1]\n", "k.yaml:5: the newTag of an images entry is not a string"),
        ("- name: a\n  name: b\n", "k.yaml:5: duplicate key 'name'"),
    ],
)
def test_entries_kustomize_would_refuse_are_errors(images_text: str, message: str) -> None:
    with pytest.raises(ManifestError, match=message):
        read_kustomizations(HEAD + "images:\n" + images_text, "k.yaml")


def test_an_entry_that_cannot_take_a_key_exactly_says_why() -> None:
    text = HEAD + "images:\n- name: a\n  newTag: >-\n    1.25\n"
    [(_, [site])] = read_kustomizations(text, "k.yaml")
    assert site.problem == (
        "a digest key cannot be added to the entry exactly: its last value spans several lines"
    )

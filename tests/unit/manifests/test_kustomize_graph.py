"""The kustomize graph: which resource lines an including kustomization's entries replace."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pinner.manifests.kustomize_graph import image_name
from pinner.manifests.scan import FileScan, scan_paths
from tests.support.files import write_tree

pytestmark = pytest.mark.usefixtures("isolated")

DIGEST = "sha256:" + "b" * 64


def deployment(*images: str) -> str:
    containers = "".join(
        f"      - name: c{i}\n        image: {image}\n" for i, image in enumerate(images)
    )
    return (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n"
        f"    spec:\n      containers:\n{containers}"
    )


def found(scans: list[FileScan]) -> dict[str, list[str]]:
    """The images each file holds after the graph, by display name."""
    return {scan.display: [site.image for site in scan.sites] for scan in scans if scan.sites}


def errors(scans: list[FileScan]) -> list[str]:
    return [str(error) for scan in scans for error in scan.invalid]


def notices(scans: list[FileScan]) -> list[str]:
    return [skipped.message for scan in scans for skipped in scan.skipped]


TREE = {
    "base/kustomization.yaml": "resources:\n- deployment.yaml\n",
    "base/deployment.yaml": deployment("my-app", "busybox:1.36"),
    "overlays/prod/kustomization.yaml": (
        "resources:\n- ../../base\ncomponents:\n- ../../components/tools\nimages:\n"
        "- name: my-app\n  newName: ghcr.io/acme/app\n  newTag: '2.0'\n"
    ),
    "overlays/dev/kustomization.yaml": (
        "resources:\n- ../../base\nimages:\n"
        "- {name: my-app, newName: ghcr.io/acme/app, newTag: dev}\n"
        "- {name: busybox, newTag: '1.37'}\n"
    ),
    "components/tools/kustomization.yaml": (
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
        "images:\n- name: busybox\n  newTag: '1.36'\n"
    ),
}


def test_resource_lines_every_overlay_replaces_are_left_to_the_entries() -> None:
    write_tree(Path("."), TREE)
    assert found(scan_paths(["."])) == {
        "components/tools/kustomization.yaml": ["busybox:1.36"],
        "overlays/dev/kustomization.yaml": ["ghcr.io/acme/app:dev", "busybox:1.37"],
        "overlays/prod/kustomization.yaml": ["ghcr.io/acme/app:2.0"],
    }


def test_a_line_one_overlay_renders_as_written_is_kept() -> None:
    write_tree(
        Path("."), {**TREE, "overlays/plain/kustomization.yaml": "resources:\n- ../../base\n"}
    )
    assert found(scan_paths(["."]))["base/deployment.yaml"] == ["my-app", "busybox:1.36"]


def test_a_base_on_its_own_is_judged_as_written() -> None:
    write_tree(Path("."), TREE)
    assert found(scan_paths(["base"])) == {"base/deployment.yaml": ["my-app", "busybox:1.36"]}


@pytest.mark.parametrize(
    "named", ["overlays/prod", "overlays/prod/kustomization.yaml", "./overlays/prod/"]
)
def test_naming_an_overlay_reads_what_it_includes(named: str) -> None:
    write_tree(Path("."), TREE)
    scans = scan_paths([named])
    # The base and the component are read too; the base's line is the overlay's entry's.
    assert {scan.display for scan in scans} == {
        os.path.normpath(named) if named.endswith(".yaml") else "overlays/prod/kustomization.yaml",
        "base/kustomization.yaml",
        "base/deployment.yaml",
        "components/tools/kustomization.yaml",
    }
    assert found(scans) == {
        "components/tools/kustomization.yaml": ["busybox:1.36"],
        os.path.normpath(named)
        if named.endswith(".yaml")
        else "overlays/prod/kustomization.yaml": ["ghcr.io/acme/app:2.0"],
    }


def test_exclude_applies_to_what_an_overlay_includes() -> None:
    write_tree(Path("."), TREE)
    scans = scan_paths(["overlays/prod"], exclude=["base"])
    assert "base/deployment.yaml" not in {scan.display for scan in scans}


def test_renames_chain_and_the_last_entry_that_sets_a_tag_owns_the_line() -> None:
    write_tree(
        Path("."),
        {
            "base/kustomization.yaml": (
                "resources: [deployment.yaml]\nimages:\n"
                "- {name: my-app, newName: ghcr.io/acme/app}\n"
            ),
            "base/deployment.yaml": deployment("my-app"),
            "prod/kustomization.yaml": (
                "resources: [../base]\nimages:\n- {name: ghcr.io/acme/app, newTag: '3'}\n"
            ),
        },
    )
    assert found(scan_paths(["."])) == {"prod/kustomization.yaml": ["ghcr.io/acme/app:3"]}


def test_a_rename_without_a_tag_is_reported_unless_the_line_is_pinned() -> None:
    write_tree(
        Path("."),
        {
            "kustomization.yaml": (
                "resources: [deployment.yaml]\nimages:\n"
                "- {name: my-app, newName: ghcr.io/acme/app}\n"
                "- {name: redis, newName: ghcr.io/x/redis}\n"
            ),
            "deployment.yaml": deployment("my-app:1.0", f"redis:7@{DIGEST}", "nginx:1.25"),
        },
    )
    scans = scan_paths(["."])
    assert found(scans)["deployment.yaml"] == ["my-app:1.0", f"redis:7@{DIGEST}", "nginx:1.25"]
    assert errors(scans) == [
        "deployment.yaml:10:16: my-app:1.0 is renamed to ghcr.io/acme/app by the images entry at "
        "kustomization.yaml:3, which sets no newTag, so its tag comes from this line and pinner "
        "does not guess that repository's digest. Give the entry a newTag (pinner then pins the "
        "entry); the file was not changed."
    ]


def test_remote_missing_folder_and_cyclic_includes_are_noticed_not_followed() -> None:
    write_tree(
        Path("."),
        {
            "a/kustomization.yaml": (
                "resources:\n- https://github.com/acme/app//deploy?ref=v1\n- gone.yaml\n"
                "- ../empty\n- ../b\n"
            ),
            "b/kustomization.yaml": "resources:\n- ../a\n",
            "empty/readme.yaml": "x: 1\n",
        },
    )
    assert notices(scan_paths(["."])) == [
        "a/kustomization.yaml: not followed: "
        "line 2: resources 'https://github.com/acme/app//deploy?ref=v1' is remote (pinner reads "
        "only local paths); line 3: resources 'gone.yaml' does not exist; "
        "line 4: resources '../empty' is a folder without a kustomization; "
        "b/kustomization.yaml, which includes it back (b/kustomization.yaml -> "
        "a/kustomization.yaml -> b/kustomization.yaml). Pin what remote resources render with "
        "`kubectl kustomize DIR | pinner pin -`. Fix or remove the other includes."
    ]


def test_a_remote_resource_alone_gets_only_its_hint() -> None:
    write_tree(Path("."), {"kustomization.yaml": "resources: [github.com/acme/app/deploy]\n"})
    assert notices(scan_paths(["."])) == [
        "kustomization.yaml: not followed: line 1: resources 'github.com/acme/app/deploy' is "
        "remote (pinner reads only local paths). Pin what remote resources render with "
        "`kubectl kustomize DIR | pinner pin -`."
    ]


def test_the_suffixless_kustomization_file_is_found_and_followed() -> None:
    write_tree(
        Path("."),
        {
            "app/Kustomization": "resources: [d.yaml]\nimages:\n- {name: my-app, newTag: '1'}\n",
            "app/d.yaml": deployment("my-app"),
        },
    )
    assert found(scan_paths(["."])) == {"app/Kustomization": ["my-app:1"]}


@pytest.mark.parametrize(
    ("image", "name"),
    [
        ("nginx", "nginx"),
        ("nginx:1.25", "nginx"),
        (f"nginx:1.25@{DIGEST}", "nginx"),
        (f"nginx@{DIGEST}", "nginx"),
        ("localhost:5000/app", "localhost:5000/app"),
        ("localhost:5000/app:1", "localhost:5000/app"),
        ("docker.io/library/nginx:1", "docker.io/library/nginx"),
    ],
)
def test_image_name_is_what_kustomize_matches(image: str, name: str) -> None:
    assert image_name(image) == name

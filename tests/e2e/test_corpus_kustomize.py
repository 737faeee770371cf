"""pinner on the real kustomizations of the shared corpora, read where they lie (nothing written).

Every kustomization file of both corpora is named at once, so the kustomize graph reads what
they include; every image wanted gets a made-up digest, and each file's new text is compared
with the old by checks that do not use pinner's code: a kustomization gains digest keys and
nothing else, a resource file changes only in image values, and the resource lines that an
including kustomization's entry replaces (Argo CD's ``quay.io/argoproj/argocd:latest``) stay.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from pinner.manifests.kustomize import FILE_NAMES
from pinner.manifests.scan import scan_paths
from pinner.pinning import wanted_references
from pinner.planning import PinOptions, plan_file
from pinner.reference import Reference
from tests.support.corpus import corpus_root, eval_corpus_root
from tests.support.kustomize_checks import assert_only_digest_keys_added

CORPORA = [root for root in (corpus_root(), eval_corpus_root()) if root is not None]
pytestmark = pytest.mark.skipif(not CORPORA, reason="the shared corpora are not beside the repo")
# Kustomizations whose entries set a tag, per corpus: finding fewer is a bug.
MIN_PINNED_KUSTOMIZATIONS = {"corpus": 2, "eval": 5}


def fake_digest(reference: Reference) -> str:
    return "sha256:" + hashlib.sha256(repr(reference.match_key).encode()).hexdigest()


def kustomization_files(root: Path) -> list[str]:
    return sorted(str(path) for name in FILE_NAMES for path in root.rglob(name))


def planned(root: Path) -> dict[str, tuple[str, str]]:
    """display -> (old text, new text) of every file pin would change."""
    scans = scan_paths(kustomization_files(root))
    options = PinOptions()
    wanted = wanted_references(scans, options)
    digests = {key: fake_digest(reference) for key, reference in wanted.items()}
    changed = {}
    for scan in scans:
        plan = plan_file(scan, digests, options)
        if plan.new_text is not None and scan.source is not None:
            changed[scan.display] = (scan.source.text, plan.new_text)
    return changed


@pytest.mark.parametrize("root", CORPORA, ids=[root.parent.name for root in CORPORA])
def test_kustomizations_gain_digest_keys_and_resources_only_image_values(root: Path) -> None:
    changed = planned(root)
    kustomizations = 0
    for display, (old, new) in changed.items():
        if Path(display).name in FILE_NAMES:
            assert_only_digest_keys_added(old, new, display)
            kustomizations += 1
            continue
        old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
        assert len(old_lines) == len(new_lines), display
        for old_line, new_line in zip(old_lines, new_lines, strict=True):
            if old_line != new_line:
                key, _, value = old_line.partition("image:")
                assert value, (display, old_line)  # only image lines change
                assert new_line.startswith(key + "image:") and "@sha256:" in new_line, display
    key = "corpus" if root == corpus_root() else "eval"
    assert kustomizations >= MIN_PINNED_KUSTOMIZATIONS[key], sorted(changed)


def test_argo_cd_images_are_pinned_in_the_entry_not_in_the_deployments() -> None:
    root = eval_corpus_root()
    if root is None or not (root / "argoproj__argo-cd").is_dir():
        pytest.skip("the evaluation corpus is not beside the repo")
    changed = planned(root / "argoproj__argo-cd")
    base = str(root / "argoproj__argo-cd/manifests/base/kustomization.yaml")
    assert base in changed
    assert "newTag: latest\n  digest: sha256:" in changed[base][1]
    image = "quay.io/argoproj/argocd:latest"
    users = [
        path
        for path in sorted((root / "argoproj__argo-cd/manifests/base").rglob("*.yaml"))
        if image in path.read_text(encoding="utf-8")
    ]
    assert len(users) >= 5
    for path in users:
        # Every file under manifests/base renders through that entry: its line is left to it
        # (a file changes only for images no entry names, such as Dex's).
        old, new = changed.get(str(path), ("", ""))
        assert old.count(image) == new.count(image), path

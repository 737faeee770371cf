"""pinner on real manifests from public projects (the shared corpus).

The corpus is copied to a temporary folder, every image found gets a digest in a digest file,
and pin runs offline. The checks do not trust pinner's finder: they compare the files line by
line and as loaded YAML data, so a byte changed anywhere but in an image value fails.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from ruamel.yaml.nodes import MappingNode, SequenceNode

from pinner.cli import main
from pinner.manifests.kustomize import FILE_NAMES
from pinner.manifests.scan import scan_paths
from pinner.reference import parse_reference
from tests.support.corpus import corpus_root
from tests.support.kustomize_checks import assert_only_digest_keys_added

CORPUS = corpus_root()
pytestmark = pytest.mark.skipif(CORPUS is None, reason="the shared corpus is not beside the repo")


def fake_digest(image: str) -> str:
    """A made-up digest, the same for every spelling of one image (nginx, docker.io/nginx)."""
    canonical = parse_reference(image).canonical
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


@pytest.fixture(scope="module")
def pinned_corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    assert CORPUS is not None
    before = tmp_path_factory.mktemp("before")
    after = tmp_path_factory.mktemp("after")
    shutil.copytree(CORPUS, before / "corpus", symlinks=True)
    shutil.copytree(CORPUS, after / "corpus", symlinks=True)
    # The shared corpus is read-only (0444 files, 0555 folders), and pinner leaves read-only
    # files alone, root or not: the copy to pin is made writable, as a checkout is.
    for path in [after / "corpus", *(after / "corpus").rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | 0o200)
    lines = []
    for scan in scan_paths([str(after / "corpus")]):
        for site, reference, _ in scan.images:
            if reference is not None and reference.digest is None:
                lines.append(
                    f"{reference.name}:{reference.tag_or_default}@{fake_digest(site.image)}"
                )
    digest_file = after / "digests.txt"
    digest_file.write_text("\n".join(sorted(set(lines))) + "\n")
    return before / "corpus", after / "corpus", lines


def test_pin_reports_or_parses_every_file_and_pins_all(
    pinned_corpus: tuple[Path, Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    _, after, lines = pinned_corpus
    digests = after.parent / "digests.txt"
    assert len(lines) > 100  # the corpus holds hundreds of images; finding few is a bug
    code = main(["pin", "--offline", "--digests", str(digests), str(after)])
    captured = capsys.readouterr()
    # Exit 2: the corpus holds invalid YAML and Helm templates on purpose, each reported.
    assert code == 2
    assert "Traceback" not in captured.err
    assert "digests.txt" not in captured.err  # the digest file itself must load
    for path in sorted(after.rglob("*")):
        if path.suffix not in (".yaml", ".yml", ".json") or path.is_symlink():
            continue
        try:
            list(YAML(typ="safe", pure=True).compose_all(path.read_text()))
        except Exception:
            assert any(str(path) in line for line in captured.err.splitlines()), path


def test_only_image_values_change(pinned_corpus: tuple[Path, Path, list[str]]) -> None:
    before, after, _ = pinned_corpus
    changed_files = 0
    for old_path in sorted(before.rglob("*")):
        if not old_path.is_file() or old_path.is_symlink():
            continue
        new_path = after / old_path.relative_to(before)
        old, new = old_path.read_bytes(), new_path.read_bytes()
        if old == new:
            continue
        changed_files += 1
        if old_path.name in FILE_NAMES:  # a kustomization gains digest keys in its entries
            assert_only_digest_keys_added(old.decode(), new.decode(), old_path)
            continue
        old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
        assert len(old_lines) == len(new_lines), old_path
        for old_line, new_line in zip(old_lines, new_lines, strict=True):
            if old_line != new_line:
                assert_only_image_changed(old_line.decode(), new_line.decode(), old_path)
        assert_same_data_but_images(old.decode(), new.decode(), old_path)
    assert changed_files > 50


def test_check_passes_after_pin_and_second_pin_changes_nothing(
    pinned_corpus: tuple[Path, Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    _, after, _ = pinned_corpus
    digests = after.parent / "digests.txt"
    main(["pin", "--offline", "--digests", str(digests), str(after)])  # idempotent if run first
    snapshot = {p: p.read_bytes() for p in after.rglob("*") if p.is_file()}
    capsys.readouterr()
    assert main(["check", "--format", "json", str(after)]) == 2  # only file errors remain
    report = json.loads(capsys.readouterr().out)
    # What could not be pinned is reported as errors: three references that are not ones (the
    # truncated digest of kustomize's own example, `digest: sha256:25a0d4`, <YOUR-CONTAINER>,
    # <image_url>) and three files with duplicate keys (a Secret with a duplicate key holds no
    # image: ignored). Left unpinned: the Helm values image blocks that have no digest key, which
    # pin does not write by default (each chart gets a notice; see docs/helm.md), and the three
    # other entries of that kustomization, which pinner leaves alone because of its invalid digest.
    assert {(v["kind"], v["field"].rpartition(".")[2]) for v in report["violations"]} == {
        ("HelmValues", "image"),
        ("HelmValues", "images"),
        ("HelmRelease", "image"),
        ("Kustomization", "images"),
    }
    entries = {v["container"] for v in report["violations"] if v["kind"] == "Kustomization"}
    assert entries == {"crd-image", "my-app", "my-mysql"}
    assert len(report["violations"]) == 13
    assert len(report["errors"]) == 6
    assert sum("invalid image reference" in error["message"] for error in report["errors"]) == 3
    main(["pin", "--offline", "--digests", str(digests), str(after)])
    assert {p: p.read_bytes() for p in after.rglob("*") if p.is_file()} == snapshot


def assert_only_image_changed(old_line: str, new_line: str, path: Path) -> None:
    """The line differs from the old one only by the image, pinned by its made-up digest."""
    for key in ("image:", '"image":', "reference:"):
        _, found, old_value = old_line.partition(key)
        if found:
            break
    assert found, f"{path}: a line without an image changed: {old_line!r} -> {new_line!r}"
    old_image = old_value.strip().split()[0].strip("'\",}")
    pinned = f"{parse_reference(old_image).name}@{fake_digest(old_image)}"
    assert new_line == old_line.replace(old_image, pinned, 1), (path, old_line, new_line)


def assert_same_data_but_images(old: str, new: str, path: Path) -> None:
    """Both texts compose to the same YAML node trees, except for image values."""
    yaml = YAML(typ="safe", pure=True)
    old_docs, new_docs = list(yaml.compose_all(old)), list(yaml.compose_all(new))
    assert len(old_docs) == len(new_docs), path
    for old_doc, new_doc in zip(old_docs, new_docs, strict=True):
        compare(old_doc, new_doc, path, ())


def compare(old: Any, new: Any, path: Path, keys: tuple[Any, ...]) -> None:
    assert type(old) is type(new) and old.tag == new.tag, (path, keys)
    if isinstance(old, MappingNode):
        assert len(old.value) == len(new.value), (path, keys)
        for (old_key, old_value), (new_key, new_value) in zip(old.value, new.value, strict=True):
            compare(old_key, new_key, path, keys)
            compare(old_value, new_value, path, (*keys, old_key.value))
    elif isinstance(old, SequenceNode):
        assert len(old.value) == len(new.value), (path, keys)
        for index, (a, b) in enumerate(zip(old.value, new.value, strict=True)):
            compare(a, b, path, (*keys, index))
    elif old.value != new.value:
        assert keys[-1] in ("image", "reference"), (path, keys, old.value, new.value)
        expected = f"{parse_reference(old.value).name}@{fake_digest(old.value)}"
        assert new.value == expected, (path, keys)

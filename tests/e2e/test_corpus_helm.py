"""pinner on real Helm charts: bitnami, ingress-nginx, calico and kritis (the evaluation corpus).

Each chart folder is copied to a temporary folder (ingress-nginx, calico and kritis come without
their Chart.yaml, so the copy gets a minimal one: their values are then a chart's values, as in
their own repositories). Every image found gets a made-up digest, pin runs offline, and the
checks do not trust pinner's finder: the files are compared line by line and as YAML node trees,
so a byte changed anywhere but in a digest value (or, opted in, a tag value) fails.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

from pinner.cli import main
from pinner.manifests.scan import scan_paths
from pinner.reference import parse_reference
from tests.support.corpus import corpus_root, eval_corpus_root

EVAL = eval_corpus_root()
CHARTS = {
    "bitnami": "bitnami__charts/bitnami/nginx",
    "ingress-nginx": "kubernetes__ingress-nginx/charts/ingress-nginx",
    "calico": "projectcalico__calico/charts/tigera-operator",
    "kritis": "grafeas__kritis/kritis-charts",
}
# calico's tigera-operator names its parts its own way: shapes from .pinner.yaml read them.
CALICO_CONFIG = """\
helm_shapes:
  - name: tigera-operator
    repository: image
    tag: version
    registry: registry
  - name: calicoctl
    repository: image
"""
pytestmark = pytest.mark.skipif(EVAL is None, reason="the evaluation corpus is not beside the repo")


def fake_digest(image: str) -> str:
    return "sha256:" + hashlib.sha256(parse_reference(image).canonical.encode()).hexdigest()


def copy_charts(root: Path) -> Path:
    assert EVAL is not None
    for name, folder in CHARTS.items():
        target = root / name
        shutil.copytree(EVAL / folder, target, symlinks=True)
        # The shared charts are read-only, and pinner leaves read-only files alone (root too).
        for path in [target, *target.rglob("*")]:
            if not path.is_symlink():
                path.chmod(path.stat().st_mode | 0o200)
        if not (target / "Chart.yaml").exists():
            (target / "Chart.yaml").write_text(
                f"apiVersion: v2\nname: {name}\nversion: 0.0.0\nappVersion: 1.0.0\n"
            )
    (root / "calico" / ".pinner.yaml").write_text(CALICO_CONFIG)
    return root


def digest_file(root: Path) -> Path:
    """Made-up digests for every image the charts' values name (per chart: calico's shapes)."""
    lines = set()
    for name in CHARTS:
        config = ["--config", str(root / name / ".pinner.yaml")] if name == "calico" else []
        for scan in scan_charts(root / name, config):
            for site, reference, _ in scan.images:
                if reference is not None:
                    lines.add(
                        f"{reference.name}:{reference.tag_or_default}@{fake_digest(site.image)}"
                    )
    path = root.parent / "digests.txt"
    path.write_text("\n".join(sorted(lines)) + "\n")
    return path


def scan_charts(folder: Path, config: list[str]) -> list[Any]:
    from pinner.config.file import Given
    from pinner.config.settings import load_settings

    settings = load_settings(Given(), config_file=Path(config[1]) if config else None)
    return list(scan_paths([str(folder)], shapes=settings.helm_shapes))


def pin_all(root: Path, digests: Path, *extra: str) -> list[int]:
    codes = []
    for name in CHARTS:
        config = ["--config", str(root / name / ".pinner.yaml")] if name == "calico" else []
        args = ["pin", "--offline", "--digests", str(digests), *config, *extra, str(root / name)]
        codes.append(main(args))
    return codes


@pytest.fixture
def charts(tmp_path: Path) -> tuple[Path, Path, Path]:
    before = copy_charts(tmp_path / "before")
    after = copy_charts(tmp_path / "after")
    return before, after, digest_file(after)


def changed_files(before: Path, after: Path) -> list[tuple[Path, Path]]:
    pairs = []
    for old in sorted(before.rglob("*")):
        new = after / old.relative_to(before)
        if old.is_file() and old.read_bytes() != new.read_bytes():
            pairs.append((old, new))
    return pairs


def test_pin_fills_only_digest_keys(
    charts: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    before, after, digests = charts
    assert pin_all(after, digests) == [1, 0, 0, 0]  # bitnami's empty digests; the rest is set
    capsys.readouterr()
    changed = changed_files(before, after)
    assert [old.relative_to(before).as_posix() for old, _ in changed] == ["bitnami/values.yaml"]
    for old, new in changed:
        old_lines, new_lines = old.read_text().splitlines(), new.read_text().splitlines()
        assert len(old_lines) == len(new_lines)
        diff = [(a, b) for a, b in zip(old_lines, new_lines, strict=True) if a != b]
        assert len(diff) == 3
        for old_line, new_line in diff:
            assert old_line.strip() == 'digest: ""'
            assert new_line.strip().startswith('digest: "sha256:')
        assert_same_but(old, new, {"digest"})
    # Every digest written is the one of its block's repository and tag.
    values = YAML(typ="safe", pure=True).load((after / "bitnami" / "values.yaml").read_text())
    for block in (values["image"], values["metrics"]["image"]):
        image = f"{block['registry']}/{block['repository']}:{block['tag']}"
        assert block["digest"] == fake_digest(image)


def test_opt_in_writes_tags_only_where_there_is_no_digest_key(
    charts: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    before, after, digests = charts
    assert pin_all(after, digests, "--helm-digest-in-tag") == [1, 1, 1, 0]
    capsys.readouterr()
    names = [old.relative_to(before).as_posix() for old, _ in changed_files(before, after)]
    assert names == ["bitnami/values.yaml", "calico/values.yaml", "ingress-nginx/values.yaml"]
    for old, new in changed_files(before, after):
        assert_same_but(old, new, {"digest", "tag", "version"})
    calico = YAML(typ="safe", pure=True).load((after / "calico" / "values.yaml").read_text())
    operator = calico["tigeraOperator"]
    assert operator["version"] == f"master@{fake_digest('quay.io/tigera/operator:master')}"
    nginx = YAML(typ="safe", pure=True).load((after / "ingress-nginx" / "values.yaml").read_text())
    backend = "registry.k8s.io/defaultbackend-amd64:1.5"
    assert nginx["defaultBackend"]["image"]["tag"] == f"1.5@{fake_digest(backend)}"


def test_check_counts_what_it_skipped(
    charts: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, after, _ = charts
    for name in CHARTS:
        capsys.readouterr()
        main(["check", "--format", "json", str(after / name)])
        report = json.loads(capsys.readouterr().out)
        assert report["summary"]["skipped"] == len(report["skipped"])
        skipped = {
            Path(skip["path"]).relative_to(after / name).as_posix() for skip in report["skipped"]
        }
        found = {
            Path(site["path"]).relative_to(after / name).as_posix() for site in report["violations"]
        }
        # Every template that names an image is either read or skipped, never silently passed.
        for template in sorted((after / name / "templates").rglob("*.yaml")):
            relative = template.relative_to(after / name).as_posix()
            if "image:" in template.read_text():
                assert relative in skipped | found, relative
        # --format github gives each skipped file or image a warning.
        main(["check", "--format", "github", str(after / name)])
        warnings = [
            line for line in capsys.readouterr().out.splitlines() if line.startswith("::warning")
        ]
        assert len(warnings) == len(report["skipped"])


def test_the_shared_corpus_counts_what_it_skipped(capsys: pytest.CaptureFixture[str]) -> None:
    corpus = corpus_root()
    if corpus is None:
        pytest.skip("the shared corpus is not beside the repo")
    main(["check", "--format", "json", str(corpus)])
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["summary"]["skipped"] == len(report["skipped"]) > 0
    assert f", {len(report['skipped'])} skipped" in captured.err


def assert_same_but(old: Path, new: Path, keys: set[str]) -> None:
    """Both files compose to the same node trees, except for values under ``keys``."""
    yaml = YAML(typ="safe", pure=True)
    old_docs = list(yaml.compose_all(old.read_text()))
    new_docs = list(yaml.compose_all(new.read_text()))
    assert len(old_docs) == len(new_docs)
    for a, b in zip(old_docs, new_docs, strict=True):
        compare(a, b, keys, ())


def compare(old: Any, new: Any, keys: set[str], where: tuple[Any, ...]) -> None:
    assert type(old) is type(new), where
    if isinstance(old, MappingNode):
        assert len(old.value) == len(new.value), where
        for (old_key, old_value), (new_key, new_value) in zip(old.value, new.value, strict=True):
            compare(old_key, new_key, keys, where)
            compare(old_value, new_value, keys, (*where, old_key.value))
    elif isinstance(old, SequenceNode):
        assert len(old.value) == len(new.value), where
        for index, (a, b) in enumerate(zip(old.value, new.value, strict=True)):
            compare(a, b, keys, (*where, index))
    else:
        assert isinstance(old, ScalarNode)
        if old.value != new.value:
            assert where[-1] in keys, where
            assert "@sha256:" in new.value or new.value.startswith("sha256:"), where

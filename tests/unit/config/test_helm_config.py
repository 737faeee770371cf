"""`.pinner.yaml` for Helm values: helm_shapes (read and applied) and helm_digest_in_tag."""

from __future__ import annotations

from pathlib import Path

import pytest

from pinner.cli import main
from pinner.config.file import Given, parse_config
from pinner.config.settings import merge
from pinner.errors import ConfigError
from pinner.helm_shapes import SHAPES, BlockShape

A = "sha256:" + "a" * 64
TIGERA = """\
helm_shapes:
  - name: tigera-operator
    repository: image
    tag: version
    registry: registry
    global_registry: global.registry
    global_overrides: true
"""
VALUES = "tigeraOperator:\n  image: tigera/operator\n  version: v1.36\n  registry: quay.io\n"


def test_shapes_are_read_and_come_before_the_built_in_ones() -> None:
    config = parse_config(TIGERA + "helm_digest_in_tag: true\n", ".pinner.yaml")
    shape = BlockShape(
        "tigera-operator",
        repository="image",
        tag="version",
        registry="registry",
        global_registry=("global", "registry"),
        global_overrides=True,
    )
    assert config.helm_shapes == (shape,)
    settings = merge(config, Given())
    assert settings.helm_shapes == (shape, *SHAPES)
    assert settings.helm_digest_in_tag is True
    # A flag beats the file.
    assert merge(config, Given(helm_digest_in_tag=False)).helm_digest_in_tag is False
    assert parse_config("helm_shapes:\n  - repository: r\n", "x").helm_shapes == (
        BlockShape("helm_shapes 1", repository="r"),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "helm_shapes: {repository: image}\n",
            "'helm_shapes' must be a list of image block shapes",
        ),
        ("helm_shapes: [image]\n", "helm_shapes entry 1 must be a mapping"),
        ("helm_shapes:\n  - tag: version\n", "helm_shapes entry 1 has no 'repository'"),
        (
            "helm_shapes:\n  - repository: a\n    tags: b\n",
            "unknown key 'tags' in helm_shapes entry 1 (did you mean 'tag'?)",
        ),
        (
            "helm_shapes:\n  - repository: a.b\n",
            "'repository' in helm_shapes entry 1 must be a key name",
        ),
        ("helm_shapes:\n  - repository: a\n    repository: b\n", "'repository' is set twice"),
        ("helm_shapes:\n  - repository: a\n    global_overrides: yes\n", "must be true or false"),
        ("helm_digest_in_tag: 1\n", "'helm_digest_in_tag' must be true or false"),
    ],
)
def test_mistakes_name_the_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(text, ".pinner.yaml")
    assert message in str(error.value)
    assert str(error.value).startswith(".pinner.yaml:")


@pytest.fixture
def chart(work_tree: Path) -> Path:
    """A chart in a git work tree (the .pinner.yaml search stops there), and its lock."""
    Path("chart").mkdir()
    Path("chart/Chart.yaml").write_text("apiVersion: v2\nname: op\nversion: 1.0.0\n")
    Path("digests.txt").write_text(f"quay.io/tigera/operator:v1.36@{A}\n")
    return Path("chart/values.yaml")


def test_a_shape_from_the_file_pins_its_blocks(
    chart: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chart.write_text(VALUES)
    assert main(["check", "chart"]) == 0  # no shape of pinner's own fits: nothing found
    Path(".pinner.yaml").write_text(TIGERA + "helm_digest_in_tag: true\n")
    assert main(["check", "chart"]) == 1
    assert main(["pin", "--offline", "--digests", "digests.txt", "chart"]) == 1
    assert chart.read_text() == VALUES.replace("v1.36", f"v1.36@{A}")
    assert main(["check", "chart"]) == 0
    # --no-helm-digest-in-tag beats the file: the block stays a tag, with a notice.
    chart.write_text(VALUES)
    capsys.readouterr()
    args = ["pin", "--offline", "--digests", "digests.txt", "--no-helm-digest-in-tag", "chart"]
    assert main(args) == 0
    assert chart.read_text() == VALUES
    assert "notice: chart chart: 1 image block has no digest key" in capsys.readouterr().err

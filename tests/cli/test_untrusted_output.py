"""Finding 17 of issue 13, for what comes from the repository: file names, manifest names and
image values holding line breaks or ESC sequences reach no terminal and no CI log raw, in any
format. (Registry error codes and messages: tests/unit/registry/test_hostile_registry.py.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pinner.cli import main

pytestmark = pytest.mark.usefixtures("isolated")

FORGED = "::warning file=README.md,line=1::forged"
RAW_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: "web\\e[2J\\n{forged}"
spec:
  containers:
  - name: "app\\e]0;owned\\a"
    image: nginx:1.25
  - name: bad
    image: "nginx\\e[31m:1"
"""


def assert_safe(text: str) -> None:
    assert not RAW_CONTROL_RE.search(text), repr(text)
    assert not any(line.lstrip().startswith("::warning file=README") for line in text.split("\n"))


@pytest.mark.parametrize("output_format", ["text", "json", "github"])
def test_file_and_manifest_names_are_shown_safely(
    capsys: pytest.CaptureFixture[str], output_format: str
) -> None:
    name = f"evil\n{FORGED}\x1b[2J.yaml"
    Path(name).write_text(POD.format(forged=FORGED), encoding="utf-8")
    code = main(["check", "--no-config", "--format", output_format, name])
    captured = capsys.readouterr()
    assert code in (1, 2)
    assert_safe(captured.out)
    assert_safe(captured.err)
    shown = captured.out + captured.err
    assert "Traceback" not in shown
    assert "evil\\n" in shown or "evil%0A" in shown  # the file is still named, escaped
    if output_format == "json":
        assert json.loads(captured.out)["violations"][0]["name"].startswith("web")

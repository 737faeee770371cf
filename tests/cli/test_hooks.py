"""Every hook in .pre-commit-hooks.yaml, run the way pre-commit runs it.

Two layers: each hook's `entry` run directly on staged-like files (fast, exact), and a real
`pre-commit run` in a temporary git repository that uses this repository as the hook source.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.support.corpus import REPO
from tests.support.processes import run_module
from tests.support.recipes import git, new_work_tree
from tests.support.samples import UNPINNED_POD, pinned_pod

HOOKS: list[dict[str, Any]] = YAML(typ="safe", pure=True).load(
    (REPO / ".pre-commit-hooks.yaml").read_text()
)
DIGEST = "sha256:" + "ab" * 32
PINNED = pinned_pod(DIGEST)


def run_entry(hook: dict[str, Any], args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    program, *entry_args = hook["entry"].split()
    assert program == "pinner"
    return run_module("pinner", *entry_args, *hook.get("args", []), *args, cwd=cwd)


def test_hooks_file_declares_both_hooks_for_yaml_and_json() -> None:
    assert [hook["id"] for hook in HOOKS] == ["pinner-check", "pinner-pin"]
    for hook in HOOKS:
        assert hook["language"] == "python"
        assert hook["types_or"] == ["yaml", "json"]


@pytest.mark.parametrize("hook", HOOKS, ids=[hook["id"] for hook in HOOKS])
def test_each_hook_entry_on_files(hook: dict[str, Any], tmp_path: Path) -> None:
    (tmp_path / "pod.yaml").write_text(UNPINNED_POD)
    (tmp_path / "digests.txt").write_text(f"nginx:1.27@{DIGEST}\n")
    (tmp_path / "values.json").write_text('{"not": "kubernetes"}\n')
    if hook["id"] == "pinner-check":
        result = run_entry(hook, ["pod.yaml", "values.json"], tmp_path)
        assert result.returncode == 1
        assert result.stdout == (
            "pod.yaml:7:12: nginx:1.27 is not pinned by digest (Pod app, container app)\n"
        )
        (tmp_path / "pod.yaml").write_text(PINNED)
        assert run_entry(hook, ["pod.yaml", "values.json"], tmp_path).returncode == 0
    else:
        args = ["--offline", "--digests", "digests.txt", "pod.yaml", "values.json"]
        result = run_entry(hook, args, tmp_path)
        assert result.returncode == 1, result.stderr  # files changed: pre-commit fails once
        assert (tmp_path / "pod.yaml").read_text() == PINNED
        assert run_entry(hook, args, tmp_path).returncode == 0
        assert (tmp_path / "values.json").read_text() == '{"not": "kubernetes"}\n'


@pytest.fixture(scope="module")
def hook_repo_rev() -> str:
    try:
        return git("rev-parse", "HEAD", cwd=REPO).strip()
    except subprocess.CalledProcessError:
        pytest.skip("this checkout has no commits to use as a hook source")


def test_real_pre_commit_runs_both_hooks(
    hook_repo_rev: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    work = new_work_tree(
        tmp_path / "work", {"pod.yaml": UNPINNED_POD, "digests.txt": f"nginx:1.27@{DIGEST}\n"}
    )
    (work / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {REPO}\n  rev: {hook_repo_rev}\n  hooks:\n"
        "  - id: pinner-pin\n    args: [--offline, --digests, digests.txt]\n"
        "  - id: pinner-check\n"
    )
    git("add", ".", cwd=work)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path_factory.getbasetemp() / "pre-commit")}
    first = run_module("pre_commit", "run", "--all-files", cwd=work, env=env, timeout=600)
    # pin changed the file, so pre-commit fails this run; check then passes on the pinned file.
    assert first.returncode == 1, first.stdout + first.stderr
    assert "files were modified by this hook" in first.stdout
    assert (work / "pod.yaml").read_text() == PINNED
    git("add", ".", cwd=work)
    second = run_module("pre_commit", "run", "--all-files", cwd=work, env=env, timeout=600)
    assert second.returncode == 0, second.stdout + second.stderr

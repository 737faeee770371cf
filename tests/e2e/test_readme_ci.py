"""The README's pre-commit and CI recipes, run as written, taken from the README's text.

No network for pinner itself: the repository address (`https://github.com/OWNER/pinner`, and
`OWNER/pinner` in a workflow's `uses:`) is replaced by a local clone whose `main` is the commit
under test (tests/support/recipes.py). pip still fetches pinner's dependencies from the package
index, as pre-commit does in tests/cli/test_hooks.py. The GitHub Action's shell steps run here
as the runner runs them (tests/support/actions.py); the GitLab job's script lines run in a
virtualenv that stands in for its `python:3.12` image.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from tests.support.actions import Step, action_steps, run_step
from tests.support.processes import run_module
from tests.support.recipes import (
    ACTION,
    README,
    clean_environment,
    git,
    localize,
    new_work_tree,
    readme_block,
    run_shell,
)
from tests.support.samples import UNPINNED_POD, pinned_pod

DIGEST = "sha256:" + "cd" * 32
PINNED = pinned_pod(DIGEST)


def load_yaml(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(text)


def prose() -> str:
    """The README's text with its lines joined: a sentence quoted here may wrap there."""
    return " ".join(README.read_text(encoding="utf-8").split())


def pre_commit(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_module("pre_commit", *args, cwd=cwd, env=env, timeout=900)


def test_pre_commit_recipe_then_autoupdate_then_try_repo(
    pinner_clone: Path, tmp_path: Path
) -> None:
    work = new_work_tree(
        tmp_path / "work", {"pod.yaml": UNPINNED_POD, "pins.lock": f"nginx:1.27@{DIGEST}\n"}
    )
    config = readme_block("# .pre-commit-config.yaml").text
    (work / ".pre-commit-config.yaml").write_text(localize(config, pinner_clone))
    git("add", ".", cwd=work)
    # A home of its own: `rev: main` moves, so a shared cache could hold another commit's main.
    env = clean_environment(PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"))

    first = pre_commit("run", "--all-files", cwd=work, env=env)
    assert first.returncode == 1, first.stdout + first.stderr
    assert "files were modified by this hook" in first.stdout
    assert "mutable reference" in first.stdout + first.stderr  # the warning docs/hooks.md mentions
    assert (work / "pod.yaml").read_text() == PINNED
    git("add", ".", cwd=work)
    assert pre_commit("run", "--all-files", cwd=work, env=env).returncode == 0

    # "Run `pre-commit autoupdate` once: it replaces `main` with that commit's SHA."
    assert "Run `pre-commit autoupdate` once" in prose()
    updated = pre_commit("autoupdate", cwd=work, env=env)
    assert updated.returncode == 0, updated.stdout + updated.stderr
    head = git("rev-parse", "main", cwd=pinner_clone).strip()
    (repo,) = load_yaml((work / ".pre-commit-config.yaml").read_text())["repos"]
    assert repo["rev"] == head
    validated = pre_commit("validate-config", ".pre-commit-config.yaml", cwd=work, env=env)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert "mutable reference" not in validated.stdout + validated.stderr

    # "Try a hook before adopting it: `pre-commit try-repo … pinner-check --all-files`."
    (try_repo,) = re.findall(r"`(pre-commit try-repo [^`]+)`", prose())
    program, *args = shlex.split(localize(try_repo, pinner_clone))
    assert program == "pre-commit"
    (work / "pod.yaml").write_text(UNPINNED_POD)
    tried = pre_commit(*args, cwd=work, env=env)
    assert tried.returncode == 1, tried.stdout + tried.stderr
    assert "pod.yaml:7:12: nginx:1.27 is not pinned by digest" in tried.stdout


def the_action_step(workflow_text: str) -> dict[str, Any]:
    workflow = load_yaml(workflow_text)
    (job,) = workflow["jobs"].values()
    (step,) = [step for step in job["steps"] if str(step.get("uses", "")).startswith(f"{ACTION}@")]
    assert step["uses"] == f"{ACTION}@main"  # the clone's main is the commit under test
    return dict(step)


def workspace(root: Path) -> Path:
    root.mkdir()
    (root / "pod.yaml").write_text(UNPINNED_POD)
    (root / "charts").mkdir()
    (root / "charts" / "chart.yaml").write_text(UNPINNED_POD)  # the recipe's args exclude charts/
    return root


def test_github_actions_recipe_runs_the_action(pinner_clone: Path, tmp_path: Path) -> None:
    step = the_action_step(readme_block("# .github/workflows/pinner.yaml").text)
    inputs = {name: str(value) for name, value in step.get("with", {}).items()}
    work = workspace(tmp_path / "workspace")
    install, check = action_steps(pinner_clone, inputs, runner_temp=tmp_path / "runner")

    installed = run_step(install, work)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert installed.stdout.splitlines()[-1].startswith("pinner ")
    found = run_step(check, work)
    assert found.returncode == 1, found.stderr  # the job fails
    assert found.stdout == (
        "::error file=pod.yaml,line=7,col=12::"
        "nginx:1.27 is not pinned by digest (Pod app, container app)\n"
    )
    (work / "pod.yaml").write_text(PINNED)
    passed = run_step(check, work)
    assert (passed.returncode, passed.stdout) == (0, ""), passed.stderr


def fake(path: Path, script: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(0o755)


def test_the_action_installs_the_version_it_is_given_as_one_argument(
    pinner_clone: Path, tmp_path: Path
) -> None:
    # The runner's python3 and the virtualenv it makes, faked: the venv's python records the
    # arguments of the pip install, its pinner prints a version.
    fake(tmp_path / "fakes" / "python3", '[ "$1 $2" = "-m venv" ]')
    venv = tmp_path / "runner" / "pinner-venv"
    fake(venv / "bin" / "python", f'printf "%s\\n" "$@" > {venv / "pip-arguments"}')
    fake(venv / "bin" / "pinner", "echo pinner 0.0.0-fake")
    marker = tmp_path / "injected"
    # An input is a value, never shell text: a quote and a command in it stay in the argument.
    version = f'git+https://example.invalid/pinner@v1"; touch {marker}; echo "'
    install, _check = action_steps(pinner_clone, {"version": version}, tmp_path / "runner")
    env = dict(install.env, PATH=f"{tmp_path / 'fakes'}:{clean_environment()['PATH']}")
    installed = run_step(Step(install.name, install.script, env), workspace(tmp_path / "work"))
    assert installed.returncode == 0, installed.stderr
    assert installed.stdout == "pinner 0.0.0-fake\n"
    recorded = (venv / "pip-arguments").read_text().splitlines()
    assert recorded == ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", version]
    assert not marker.exists()


def test_gitlab_ci_recipe(pinner_clone: Path, tmp_path: Path) -> None:
    job = load_yaml(readme_block("# .gitlab-ci.yml").text)["pinner"]
    script = [localize(line, pinner_clone) for line in job["script"]]
    assert job["artifacts"]["paths"] == ["pinner-check.json"]
    image = tmp_path / "python-image"  # the job's python:3.12 image: python and pip on PATH
    subprocess.run([sys.executable, "-m", "venv", str(image)], check=True, timeout=300)
    env = clean_environment()
    env["PATH"] = f"{image / 'bin'}:{env['PATH']}"
    work = tmp_path / "project"
    work.mkdir()
    (work / "pod.yaml").write_text(UNPINNED_POD)

    def run_job() -> list[subprocess.CompletedProcess[str]]:
        """Each script line in turn; the first that fails fails the job, as in GitLab."""
        results = []
        for line in script:
            results.append(run_shell(line, cwd=work, env=env))
            if results[-1].returncode != 0:
                break
        return results

    install, report, verdict = run_job()
    assert install.returncode == 0 and report.returncode == 0, install.stderr + report.stderr
    assert verdict.returncode == 1  # the job fails, and says why in its log
    assert "pod.yaml:7:12: nginx:1.27 is not pinned by digest" in verdict.stdout
    document = json.loads((work / "pinner-check.json").read_text())
    assert [violation["image"] for violation in document["violations"]] == ["nginx:1.27"]

    (work / "pod.yaml").write_text(PINNED)
    results = run_job()
    assert [result.returncode for result in results] == [0, 0, 0]
    assert json.loads((work / "pinner-check.json").read_text())["violations"] == []

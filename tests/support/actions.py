"""Run a composite GitHub Action's shell steps here, as the runner would run them.

The runner replaces each `${{ expression }}` in a step's `run` and `env` with its value before
the shell sees it (inputs take their defaults when the workflow leaves them out), then runs the
script with `bash --noprofile --norc -eo pipefail FILE` for `shell: bash`. Only the expressions
listed in `context` are known here: any other one fails the test rather than being guessed.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from tests.support.processes import run_process
from tests.support.recipes import clean_environment

EXPRESSION = re.compile(r"\$\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}")


@dataclass(frozen=True)
class Step:
    name: str
    script: str
    env: dict[str, str]


def load_action(action_dir: Path) -> dict[str, Any]:
    action: dict[str, Any] = YAML(typ="safe", pure=True).load(
        (action_dir / "action.yml").read_text()
    )
    return action


def action_steps(action_dir: Path, inputs: dict[str, str], runner_temp: Path) -> list[Step]:
    """The action's steps with INPUTS (and the defaults of the others) substituted."""
    action = load_action(action_dir)
    declared: dict[str, dict[str, Any]] = action["inputs"]
    unknown = set(inputs) - set(declared)
    assert not unknown, f"inputs the action does not declare: {sorted(unknown)}"
    runner_temp.mkdir(parents=True, exist_ok=True)
    context = {
        "github.action_path": str(action_dir),
        "runner.temp": str(runner_temp),
        **{
            f"inputs.{name}": inputs.get(name, str(spec.get("default", "")))
            for name, spec in declared.items()
        },
    }

    def substitute(text: str) -> str:
        return EXPRESSION.sub(lambda match: context[match.group(1)], text)

    assert action["runs"]["using"] == "composite"
    steps = []
    for step in action["runs"]["steps"]:
        assert step["shell"] == "bash", step
        env = {name: substitute(str(value)) for name, value in step.get("env", {}).items()}
        env.update(GITHUB_ACTION_PATH=str(action_dir), RUNNER_TEMP=str(runner_temp), CI="true")
        steps.append(Step(step["name"], substitute(step["run"]), env))
    return steps


def run_step(step: Step, workspace: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """STEP in WORKSPACE (the job's checkout), as the runner runs a `shell: bash` step."""
    script = workspace.parent / f"{workspace.name}-step.sh"
    script.write_text(step.script)
    env = clean_environment(GITHUB_WORKSPACE=str(workspace), **step.env)
    argv = ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)]
    return run_process(argv, cwd=workspace, env=env, timeout=timeout)

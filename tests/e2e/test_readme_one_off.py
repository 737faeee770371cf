"""The README's one-off run over a repository, command by command, taken from the README's text.

Against the real docker-registry on 127.0.0.1; `less pinning.diff` (a pager for the reader) is
the one line not run. This checkout's pinner is the `pinner` on PATH.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.support.recipes import clean_environment, git, readme_block, run_shell
from tests.support.registry_server import Pusher, RegistryServer

pytestmark = pytest.mark.realregistry

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  template:
    spec:
      containers:
      - name: api
        image: IMAGE  # the API server
"""


def test_one_off_run_writes_exactly_the_reviewed_diff(
    registry_anonymous: RegistryServer, pusher_anonymous: Pusher, unique_repo: str, tmp_path: Path
) -> None:
    commands = readme_block("pinner pin --diff --write-digests").commands()
    assert "less pinning.diff" in commands
    digest = pusher_anonymous.push_image(unique_repo, "1.0")
    image = f"{registry_anonymous.host}/{unique_repo}"
    work = tmp_path / "repo"
    (work / "k8s").mkdir(parents=True)
    (work / "k8s" / "api.yaml").write_text(DEPLOYMENT.replace("IMAGE", f"{image}:1.0"))
    git("init", "--quiet", "--initial-branch", "main", cwd=work)
    git("add", ".", cwd=work)
    identity = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    env = clean_environment(**identity)
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    git(
        "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "init", cwd=work
    )

    results = {}
    for command in commands:
        if command != "less pinning.diff":
            results[command] = run_shell(command, cwd=work, env=env, timeout=120)
    codes = [result.returncode for result in results.values()]
    # The diff run exits 1 (something would change) and writes the lock; the rest succeed.
    assert codes == [0, 1, 1, 0], {command: r.stderr for command, r in results.items()}
    assert (
        f"+        image: {image}@{digest}  # the API server" in (work / "pinning.diff").read_text()
    )
    assert (work / "pins.lock").read_text().splitlines()[-1] == f"{image}:1.0@{digest}"
    assert (work / "k8s" / "api.yaml").read_text() == DEPLOYMENT.replace(
        "IMAGE", f"{image}@{digest}"
    )
    assert git("log", "--format=%s", "-1", cwd=work).strip() == "Pin container images to digests"
    assert git("show", "--name-only", "--format=", "HEAD", cwd=work).split() == [
        "k8s/api.yaml",
        "pins.lock",
    ]
    assert git("status", "--porcelain", cwd=work) == "?? pinning.diff\n"

"""The README's recipes, read from its text, and a local clone of pinner to run them against.

The README names pinner's repository as REPOSITORY (an address the user replaces with theirs).
The tests never use the network for it: `localize` puts the path of a local clone in its place,
a clone whose `main` is the commit under test (uncommitted changes are not in it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.files import write_tree
from tests.support.paths import REPO
from tests.support.processes import run_process

README = REPO / "README.md"
REPOSITORY = "https://github.com/OWNER/pinner"
ACTION = "OWNER/pinner"  # how a workflow's `uses:` names the action in REPOSITORY
FENCE = re.compile(r"^(\s*)```(\S*)\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced block of the README: its info string (`sh`, `yaml`), text, and first line."""

    info: str
    text: str
    line: int

    def commands(self) -> list[str]:
        """The shell commands of an `sh` block: comments and blank lines dropped, `\\` joined."""
        joined = re.sub(r"\\\n\s*", "", self.text)
        lines = [re.sub(r"\s+#.*$", "", line).strip() for line in joined.splitlines()]
        return [line for line in lines if line and not line.startswith("#")]


def blocks(text: str) -> list[Block]:
    found: list[Block] = []
    opened: tuple[str, str, int] | None = None
    body: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        match = FENCE.match(line)
        if match and opened is None:
            opened, body = (match.group(1), match.group(2), number + 1), []
        elif match and opened is not None:
            indent, info, first = opened
            found.append(
                Block(info, "".join(f"{row.removeprefix(indent)}\n" for row in body), first)
            )
            opened = None
        elif opened is not None:
            body.append(line)
    return found


def readme_block(containing: str) -> Block:
    """The one README block whose text contains CONTAINING (a recipe is written once)."""
    matching = [
        block for block in blocks(README.read_text(encoding="utf-8")) if containing in block.text
    ]
    assert len(matching) == 1, f"README.md has {len(matching)} blocks with {containing!r}"
    return matching[0]


def localize(text: str, clone: Path) -> str:
    """TEXT with the README's repository address replaced by the local CLONE."""
    # file://localhost/PATH rather than file:///PATH: pipx refuses a URL without a host.
    text = text.replace(f"git+{REPOSITORY}", f"git+file://localhost{clone}")
    return text.replace(REPOSITORY, str(clone))


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True, timeout=120
    ).stdout


def new_work_tree(folder: Path, files: Mapping[str, str]) -> Path:
    """A new git work tree at ``folder`` holding ``files`` (name → text), not yet added."""
    folder.mkdir()
    git("init", "--quiet", cwd=folder)
    write_tree(folder, files)
    return folder


def clone_at_head(destination: Path) -> Path:
    """A clone of this repository whose `main` (and HEAD) is the commit under test."""
    try:
        head = git("rev-parse", "HEAD", cwd=REPO).strip()
    except subprocess.CalledProcessError:
        pytest.skip("this checkout has no commits to clone")
    git("clone", "--quiet", "--no-checkout", str(REPO), str(destination), cwd=REPO)
    git("checkout", "--quiet", "-B", "main", head, cwd=destination)
    # The README says pinner has no release tags yet; a tag left in a developer's checkout
    # would make `pre-commit autoupdate` choose it over main's commit.
    tags = git("tag", "--list", cwd=destination).split()
    if tags:
        git("tag", "--delete", *tags, cwd=destination)
    return destination


def clean_environment(**extra: str) -> dict[str, str]:
    """os.environ without any `pinner` on PATH, so a recipe finds only the pinner it installs."""
    folders = [
        folder
        for folder in os.environ.get("PATH", "").split(os.pathsep)
        if folder and not (Path(folder) / "pinner").exists()
    ]
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"VIRTUAL_ENV", "PYTHONPATH"}
    }
    environment["PATH"] = os.pathsep.join(folders)
    environment.update(extra)
    return environment


def run_shell(
    command: str, cwd: Path, env: dict[str, str], timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """COMMAND as a user's shell runs it (bash, no profile), output captured."""
    return run_process(
        ["bash", "--noprofile", "--norc", "-c", command], cwd=cwd, env=env, timeout=timeout
    )


@pytest.fixture(scope="session")
def pinner_clone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One local clone of pinner for every recipe test (read-only to them)."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    yield clone_at_head(tmp_path_factory.mktemp("clone") / "pinner")

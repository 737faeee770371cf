"""The README's install and quick-start commands, run as written, taken from the README's text.

No network for pinner itself: the repository address is replaced by a local clone whose `main`
is the commit under test (tests/support/recipes.py). pip still fetches pinner's dependencies
from the package index, as pre-commit does in tests/cli/test_hooks.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pinner
from tests.support.recipes import clean_environment, localize, readme_block, run_shell
from tests.support.registry_server import require_binary

VERSION_LINE = f"pinner {pinner.__version__}\n"


def test_install_with_pipx(pinner_clone: Path, tmp_path: Path) -> None:
    require_binary("pipx")
    commands = readme_block("pipx install").commands()
    # The system package step is the one line not run here: tests/run installs pipx instead.
    assert commands[0] == "sudo apt install pipx git"
    bin_dir = tmp_path / "bin"
    env = clean_environment(PIPX_HOME=str(tmp_path / "pipx"), PIPX_BIN_DIR=str(bin_dir))
    env["PATH"] = f"{bin_dir}:{env['PATH']}"  # what `pipx ensurepath` arranges
    script = localize("\n".join(["set -e", *commands[1:]]), pinner_clone)
    result = run_shell(script, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.endswith(VERSION_LINE)
    assert (bin_dir / "pinner").exists()


def test_install_in_a_virtualenv_from_a_clone(pinner_clone: Path, tmp_path: Path) -> None:
    commands = readme_block("python3 -m venv").commands()
    assert commands[0].startswith("git clone https://github.com/OWNER/pinner")
    script = localize("\n".join(["set -e", *commands]), pinner_clone)
    result = run_shell(script, cwd=tmp_path, env=clean_environment())
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.endswith(VERSION_LINE)
    assert (tmp_path / "pinner" / ".venv" / "bin" / "pinner").exists()


def test_quick_start_in_a_clone(pinner_clone: Path) -> None:
    pin, check = readme_block("examples/digests.txt").commands()
    env = clean_environment()
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"  # this checkout's pinner
    pinned = run_shell(pin, cwd=pinner_clone, env=env, timeout=60)
    assert pinned.returncode == 0, pinned.stderr
    assert "image: nginx@sha256:" in pinned.stdout and "nginx:1.27" not in pinned.stdout
    found = run_shell(check, cwd=pinner_clone, env=env, timeout=60)
    assert found.returncode == 1, found.stderr  # the examples are not pinned: that is the point
    # The line the README shows for `pinner check examples/` is what it prints.
    shown = readme_block("$ pinner check examples/").text.splitlines()[1]
    assert shown in found.stdout.splitlines()

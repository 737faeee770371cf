"""`pinner --version` prints the installed distribution's version, and nothing else runs."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

import pinner
from pinner.cli import COMMAND_MODULES, main
from tests.support.processes import run_module

DISTRIBUTION = "pinner-k8s"  # the name on PyPI; "pinner" there is an unrelated project


def installed_version() -> str:
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise AssertionError(
            f"{DISTRIBUTION} is not installed: the distribution was renamed from pinner; "
            "run `bash tests/run`, or `.venv/bin/pip install -e '.[test]'`"
        ) from None


def test_version_is_the_distribution_version() -> None:
    result = run_module("pinner", "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"pinner {installed_version()}\n"
    assert result.stderr == ""


def test_version_comes_from_the_package_pyproject_reads() -> None:
    # pyproject.toml's version is dynamic, read from pinner.__version__: one place to bump.
    assert installed_version() == pinner.__version__


def test_version_wins_over_a_command() -> None:
    # Eager, as --help is: `pinner --version check` prints the version and checks nothing.
    result = run_module("pinner", "--version", "check", "does-not-exist.yaml")
    assert (result.returncode, result.stdout) == (0, f"pinner {pinner.__version__}\n")


def test_version_in_process_exits_zero() -> None:
    assert main(["--version"]) == 0


def test_version_imports_no_command() -> None:
    # `pinner --version` is as cheap as the start-up gets: no command module is imported for it.
    probe = (
        "import sys; from pinner.cli import main; code = main(['--version']); "
        "print(code, sorted(name for name in sys.modules if name.startswith('pinner.cli.')), "
        "'rich' in sys.modules, file=sys.stderr)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.stdout == f"pinner {pinner.__version__}\n"
    code, modules, rich = (
        result.stderr.strip().split(" ", 1)[0],
        *result.stderr.strip().rsplit(" ", 1),
    )
    assert (code, rich) == ("0", "False"), result.stderr
    commands = {f"pinner.cli.{name}" for name in COMMAND_MODULES.values()}
    assert not [name for name in commands if f"'{name}'" in modules], result.stderr

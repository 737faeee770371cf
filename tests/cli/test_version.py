"""`pinner --version` prints the installed distribution's version, and nothing else runs."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

import pinner
from pinner.cli import main

DISTRIBUTION = "pinner-k8s"  # the name on PyPI; "pinner" there is an unrelated project


def test_version_is_the_distribution_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pinner", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"pinner {importlib.metadata.version(DISTRIBUTION)}\n"
    assert result.stderr == ""


def test_version_comes_from_the_package_pyproject_reads() -> None:
    # pyproject.toml's version is dynamic, read from pinner.__version__: one place to bump.
    assert importlib.metadata.version(DISTRIBUTION) == pinner.__version__


def test_version_wins_over_a_command() -> None:
    # Eager, as --help is: `pinner --version check` prints the version and checks nothing.
    result = subprocess.run(
        [sys.executable, "-m", "pinner", "--version", "check", "does-not-exist.yaml"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout) == (0, f"pinner {pinner.__version__}\n")


def test_version_in_process_exits_zero() -> None:
    assert main(["--version"]) == 0

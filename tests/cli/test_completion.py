"""`pinner completion SHELL`: a script the shell loads, and completions through the real
`pinner` entry point (the console script pip installs), not only `main()`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pinner.cli import main

# The console script installed beside this interpreter (pip install -e . puts it there).
ENTRY_POINT = Path(sys.executable).parent / "pinner"


def completions(words: str, cword: int) -> list[str]:
    """What the real entry point answers when bash asks it to complete ``words``."""
    env = {
        **os.environ,
        "_PINNER_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(cword),
    }
    result = subprocess.run([str(ENTRY_POINT)], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_a_script_for_the_shell(
    shell: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["completion", shell]) == 0
    script = capsys.readouterr().out
    assert f"_PINNER_COMPLETE=complete_{shell}" in script
    assert "pinner" in script and script.endswith("\n")


def test_an_unknown_shell_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", "tcsh"]) == 2
    assert capsys.readouterr().err == (
        "error: completion takes one of bash, zsh, fish, not 'tcsh'.\n"
    )


def test_the_entry_point_completes_commands_and_options() -> None:
    assert ENTRY_POINT.exists(), "install pinner in the test environment (pip install -e .)"
    assert completions("pinner ch", 1) == ["check"]
    assert completions("pinner pin --insec", 2) == ["--insecure-registry"]
    assert "--format" in completions("pinner verify --fo", 2)


def test_bash_completes_with_the_printed_script(tmp_path: Path) -> None:
    bash = shutil.which("bash")
    assert bash is not None
    script = subprocess.run(
        [str(ENTRY_POINT), "completion", "bash"], capture_output=True, text=True, timeout=60
    ).stdout
    (tmp_path / "pinner.bash").write_text(script)
    # What bash does on `pinner p<TAB>`: call the function the script registered for pinner.
    program = (
        f"source {tmp_path / 'pinner.bash'}\n"
        "complete -p pinner\n"
        "COMP_WORDS=(pinner p); COMP_CWORD=1\n"
        "_pinner_completion pinner\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    env = {**os.environ, "PATH": f"{ENTRY_POINT.parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        [bash, "--norc", "-c", program], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    registered, *answers = result.stdout.splitlines()
    assert registered == "complete -o default -F _pinner_completion pinner"
    assert answers == ["pin", "policy"]

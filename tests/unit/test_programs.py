"""Programs pinner runs: found only through absolute PATH entries, bounded in output and time.

Covers issue 13 finding 9 (an empty PATH entry ran ./git and ./docker-credential-* from the
scanned repository) and the helper half of finding 7 (a helper printing 500 MB drove RSS to
1.5 GB; one leaving a child holding its stdout cost a 20 s wait).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from pinner.programs import ProgramError, find_program, run_program
from pinner.registry.errors import CredentialUnavailableError
from pinner.registry.keychains import DockerConfigKeychain, run_credential_helper

SH = shutil.which("sh") or "/bin/sh"
SLEEP = shutil.which("sleep") or "/bin/sleep"


def script(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text(f"#!{SH}\n{body}\n")
    path.chmod(0o755)
    return path


def is_gone(pid: int) -> bool:
    """True once ``pid`` has exited (a zombie waiting for init to reap it counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


# --- the PATH rule ----------------------------------------------------------------------------


@pytest.mark.parametrize("entries", ["", ".", "bin", "./bin", ":", "::"])
def test_empty_and_relative_path_entries_are_never_searched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, entries: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bin").mkdir()
    for folder in (tmp_path, tmp_path / "bin"):
        script(folder, "docker-credential-x", "exit 0")
    assert find_program("docker-credential-x", entries) is None


def test_an_empty_entry_is_skipped_for_the_absolute_ones_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    script(tmp_path, "sh", "exit 0")
    found = find_program("sh", f":{os.path.dirname(SH)}")
    assert found == os.path.join(os.path.dirname(SH), "sh")


def test_a_folder_or_a_file_without_x_is_not_a_program(tmp_path: Path) -> None:
    (tmp_path / "git").mkdir()
    plain = tmp_path / "docker-credential-x"
    plain.write_text("#!/bin/sh\n")
    assert find_program("git", str(tmp_path)) is None
    assert find_program("docker-credential-x", str(tmp_path)) is None


def test_a_helper_in_the_scanned_folder_never_runs_through_an_empty_path_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    marker = tmp_path / "ran"
    script(repo, "docker-credential-x", f"touch {marker}\necho '{{}}'")
    monkeypatch.chdir(repo)
    monkeypatch.setenv("PATH", ":/usr/bin")
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "config.json").write_text(json.dumps({"credsStore": "x"}))
    keychain = DockerConfigKeychain(tmp_path / "docker" / "config.json")
    with pytest.raises(CredentialUnavailableError) as caught:
        keychain.resolve("registry.example")
    assert "docker-credential-x was not found on PATH" in str(caught.value)
    assert not marker.exists()


def test_git_in_the_scanned_repository_never_runs_through_an_empty_path_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pinner.cli import main

    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    repo.mkdir()
    marker = tmp_path / "ran"
    script(repo, "git", f"touch {marker}\nexit 1")
    (repo / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
        "spec: {containers: [{name: c, image: nginx:1.27}]}\n"
    )
    monkeypatch.chdir(repo)
    monkeypatch.setenv("PATH", f":{os.path.dirname(git)}:{os.path.dirname(SH)}")
    assert main(["check", "."]) == 1
    assert not marker.exists()
    assert "pod.yaml:4" in capsys.readouterr().out


# --- output and time caps ---------------------------------------------------------------------


def test_output_past_the_cap_stops_the_program_at_once() -> None:
    started = time.monotonic()
    with pytest.raises(ProgramError) as caught:
        # 500 MB if read to the end: the cap stops it after about 1 MiB.
        run_program([SH, "-c", "head -c 500000000 /dev/zero"], timeout=20, output_limit=1024 * 1024)
    assert caught.value.cause == "printed more than 1048576 bytes"
    assert time.monotonic() - started < 5


def test_a_helper_printing_500_mb_is_refused_without_reading_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script(tmp_path, "docker-credential-big", "head -c 500000000 /dev/zero")
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.path.dirname(SH)}")
    started = time.monotonic()
    with pytest.raises(CredentialUnavailableError) as caught:
        run_credential_helper("big", "registry.example")
    assert "docker-credential-big printed more than 1048576 bytes" in str(caught.value)
    assert time.monotonic() - started < 5


def test_a_child_holding_stdout_is_not_waited_for_and_is_killed(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    body = (
        f"{SH} -c 'echo $$ > {pid_file}; exec {SLEEP} 30' &\n"
        'echo \'{"Username":"u","Secret":"s"}\'\n'
        "exit 0"
    )
    helper = script(tmp_path, "docker-credential-lingering", body)
    started = time.monotonic()
    finished = run_program([str(helper), "get"], timeout=20, output_limit=1024)
    assert time.monotonic() - started < 3
    assert finished.returncode == 0
    assert json.loads(finished.stdout) == {"Username": "u", "Secret": "s"}
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while not is_gone(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert is_gone(child)


def test_a_helper_with_a_lingering_child_still_gives_its_credential(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = (
        f"read -r server\n{SLEEP} 30 &\n"
        'printf \'{"ServerURL":"%s","Username":"u","Secret":"s3cret"}\' "$server"'
    )
    script(tmp_path, "docker-credential-lingering", body)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.path.dirname(SH)}")
    started = time.monotonic()
    credential = run_credential_helper("lingering", "registry.example")
    assert time.monotonic() - started < 3
    assert credential is not None and credential.password == "s3cret"  # type: ignore[union-attr]


def test_the_deadline_covers_the_whole_run_and_kills_the_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid_file = tmp_path / "child.pid"
    # A program that drips output never trips a per-read timeout; the deadline still holds.
    body = (
        f"{SH} -c 'echo $$ > {pid_file}; exec {SLEEP} 30' &\n"
        f"while true; do echo x; {SLEEP} 0.1; done"
    )
    helper = script(tmp_path, "dripping", body)
    started = time.monotonic()
    with pytest.raises(ProgramError) as caught:
        run_program([str(helper)], timeout=0.5, output_limit=1024 * 1024)
    assert caught.value.cause == "did not finish within 0.5 seconds"
    assert time.monotonic() - started < 3
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while not is_gone(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert is_gone(child)


def test_stdin_exit_status_and_both_streams_come_back() -> None:
    finished = run_program(
        [SH, "-c", "read -r line; echo out:$line; echo err >&2; exit 3"],
        stdin=b"registry.example\n",
        timeout=10,
        output_limit=1024,
    )
    assert finished == (3, b"out:registry.example\n", b"err\n")


def test_a_program_that_cannot_start_says_why(tmp_path: Path) -> None:
    plain = tmp_path / "not-executable"
    plain.write_text("")
    with pytest.raises(ProgramError) as caught:
        run_program([str(plain)], timeout=1, output_limit=1)
    assert caught.value.cause == "could not be started (Permission denied)"

"""Running other programs (git, docker-credential-*, gcloud, aws, az): found safely, bounded.

Public API:

- ``find_program(name, path=None) -> str | None``: the absolute path of ``name`` on ``PATH``
  (or ``path``), looking only in absolute folders. An empty entry (``PATH=":/usr/bin"``) or a
  relative one (``.``, ``bin``) means "the current folder", which for pinner is usually the
  repository it scans: a ``./git`` or ``./docker-credential-x`` planted there must never run.
  Go refuses programs found that way since 1.19 (``exec.ErrDot``); pinner skips such entries
  and goes on with the absolute ones.
- ``run_program(argv, *, stdin=b"", timeout, output_limit, cwd=None, env=None) -> Finished``:
  a fixed argv (no shell) in its own process group. Output is read as it comes, with a
  deadline for the whole run and a cap on what is kept; once the program has exited, what it
  left running is not waited for (a child holding its stdout would otherwise keep the pipe
  open). Raises :class:`ProgramError` when the program cannot start, runs past the deadline or
  prints more than the cap; the process group is then killed.
- ``Finished(returncode, stdout, stderr)``: raw bytes; callers decode, and never log them.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Mapping
from typing import NamedTuple

# How long output may still arrive after the program itself exited. Real programs flush before
# they exit; a grandchild that keeps the pipe open is not waited for beyond this.
EXIT_GRACE_SECONDS = 0.2
READ_CHUNK = 64 * 1024


class ProgramError(Exception):
    """A program could not be run to the end; ``cause`` is a fragment such as "did not finish
    within 20 seconds", to follow the program's name in a message."""

    def __init__(self, cause: str) -> None:
        self.cause = cause
        super().__init__(cause)


class Finished(NamedTuple):
    returncode: int
    stdout: bytes
    stderr: bytes


def find_program(name: str, path: str | None = None) -> str | None:
    if os.sep in name:
        return name if os.path.isabs(name) and _is_executable(name) else None
    entries = os.environ.get("PATH", os.defpath) if path is None else path
    for folder in entries.split(os.pathsep):
        if not os.path.isabs(folder):
            continue  # "", "." or "bin": the current folder, the scanned repository
        candidate = os.path.join(folder, name)
        if _is_executable(candidate):
            return candidate
    return None


def _is_executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def run_program(
    argv: list[str],
    *,
    stdin: bytes = b"",
    timeout: float,
    output_limit: int,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> Finished:
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=env,
            start_new_session=True,  # its own process group, so what it leaves can be killed
        )
    except OSError as err:
        raise ProgramError(f"could not be started ({err.strerror or err})") from None
    try:
        stdout, stderr = _communicate(process, stdin, timeout, output_limit)
    finally:
        _kill_group(process)
    return Finished(process.returncode, stdout, stderr)


def _communicate(
    process: subprocess.Popen[bytes], stdin: bytes, timeout: float, limit: int
) -> tuple[bytes, bytes]:
    assert process.stdin and process.stdout and process.stderr
    deadline = time.monotonic() + timeout
    with contextlib.suppress(BrokenPipeError):
        # Inputs are a server URL or nothing: far below a pipe buffer, so this cannot block.
        process.stdin.write(stdin)
    with contextlib.suppress(BrokenPipeError):
        process.stdin.close()
    chunks: dict[int, list[bytes]] = {process.stdout.fileno(): [], process.stderr.fileno(): []}
    size = 0
    exited_at: float | None = None
    with selectors.DefaultSelector() as selector:
        for stream in (process.stdout, process.stderr):
            os.set_blocking(stream.fileno(), False)
            selector.register(stream.fileno(), selectors.EVENT_READ)
        while selector.get_map():
            now = time.monotonic()
            if now >= deadline:
                raise ProgramError(f"did not finish within {timeout:g} seconds")
            if exited_at is None and _has_exited(process):
                exited_at = now
            if exited_at is not None and now >= exited_at + EXIT_GRACE_SECONDS:
                break  # it exited; whatever still holds its output is killed with the group
            # Short waits while it runs: exiting is not an event the selector sees.
            wait = min(deadline - now, 0.05 if exited_at is None else EXIT_GRACE_SECONDS)
            for key, _ in selector.select(wait):
                try:
                    chunk = os.read(key.fd, READ_CHUNK)
                except BlockingIOError:
                    continue
                if not chunk:
                    selector.unregister(key.fd)
                    continue
                size += len(chunk)
                if size > limit:
                    raise ProgramError(f"printed more than {limit} bytes")
                chunks[key.fd].append(chunk)
    # Its output is closed; wait for the exit itself (reaped only after the group is killed).
    while not _has_exited(process):
        if time.monotonic() >= deadline:
            raise ProgramError(f"did not finish within {timeout:g} seconds")
        time.sleep(0.01)
    return b"".join(chunks[process.stdout.fileno()]), b"".join(chunks[process.stderr.fileno()])


def _has_exited(process: subprocess.Popen[bytes]) -> bool:
    # WNOWAIT leaves it a zombie: its pid, which is also its group's id, stays reserved until
    # the group has been killed, so the kill cannot reach a process that took the pid over.
    try:
        status = os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True
    return status is not None


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            stream.close()

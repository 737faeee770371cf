"""The fake programs of tests/support/fakes, linked into a test's PATH folder (``fake_bin``).

A fake appends its arguments to the file its log variable names, one line a run, and prints the
secret its secret variable holds: the test sees what pinner ran and what it was handed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.paths import FAKES

# What each fake reads: where to log its runs, and the secret it prints.
LOG_VARIABLES = {
    "aws": "FAKE_AWS_LOG",
    "az": "FAKE_AZ_LOG",
    "gcloud": "FAKE_GCLOUD_LOG",
    "docker-credential-fake": "FAKE_HELPER_LOG",
}
SECRET_VARIABLES = {
    "aws": "FAKE_AWS_PASSWORD",
    "az": "FAKE_AZ_TOKEN",
    "gcloud": "FAKE_GCLOUD_TOKEN",
    "docker-credential-fake": "FAKE_HELPER_SECRET",
}


def install(fake_bin: Path, name: str) -> None:
    """Put the fake ``name`` on the PATH that ``fake_bin`` is."""
    (fake_bin / name).symlink_to(FAKES / name)


def install_logged(monkeypatch: pytest.MonkeyPatch, fake_bin: Path, name: str, secret: str) -> Path:
    """Put the fake ``name`` on PATH, printing ``secret``, and return its log: ``name.log``
    beside ``fake_bin``, which exists once the fake has run."""
    install(fake_bin, name)
    log = fake_bin.parent / f"{name}.log"
    monkeypatch.setenv(LOG_VARIABLES[name], str(log))
    monkeypatch.setenv(SECRET_VARIABLES[name], secret)
    return log

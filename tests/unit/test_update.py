"""``pinner pin --update`` against the real Debian ``docker-registry``: moving pins forward.

The story of issue 4: push ``app:1``, pin it, push a new image as ``app:1``; ``verify`` reports
the drift, ``pin --update`` moves the pin (byte for byte), and ``verify`` then passes. Every
expected digest is the sha256 of what the test pushed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pinner.cli import main
from tests.support.cli import run_cli, without_summaries
from tests.support.registry_server import Pusher
from tests.support.samples import deployment

pytest_plugins = ["tests.support.registry_fixtures"]
pytestmark = [pytest.mark.realregistry, pytest.mark.usefixtures("isolated", "docker_config")]

PREAMBLE = "# The web tier. Comments, quotes and spacing must survive every rewrite.\n"
DEPLOYMENT = PREAMBLE + deployment(
    """\
containers:
  - name: app
    image: "{app}"   # the application
  - name: sidecar
    image: {sidecar}
  - name: frozen
    image: '{frozen}'
"""
)
APP_AT = "web.yaml:11:18"  # where the app image starts (after the opening quote)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, list[str]]:
    """Exit code, stdout, and the stderr lines other than the timed summary lines."""
    code, out, err = run_cli(capsys, *args)
    return code, out, without_summaries(err, "pinner pin: ", "pinner verify: ")


def summary(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """The summary line of a run, without its timing."""
    main(list(args))
    line = capsys.readouterr().err.splitlines()[-1]
    return line.split(": ", 1)[1].rsplit(" (", 1)[0]


def test_pin_then_the_tag_moves_then_update(
    capsys: pytest.CaptureFixture[str], pusher_anonymous: Pusher, unique_repo: str
) -> None:
    repo = f"{unique_repo}/app"
    old = pusher_anonymous.push_image(repo, "1", seed="first build")
    sidecar = pusher_anonymous.push_image(repo, "2", seed="sidecar")
    frozen = pusher_anonymous.push_image(repo, None, seed="frozen")
    app = f"{pusher_anonymous.server.host}/{repo}"
    manifest = Path("web.yaml")
    manifest.write_text(
        DEPLOYMENT.format(app=f"{app}:1", sidecar=f"{app}:2", frozen=f"{app}@{frozen}")
    )

    # Day one: pin, keeping the tags so the pins can be moved later.
    assert run(capsys, "pin", "--keep-tag", "web.yaml")[0] == 1
    pinned = DEPLOYMENT.format(
        app=f"{app}:1@{old}", sidecar=f"{app}:2@{sidecar}", frozen=f"{app}@{frozen}"
    )
    assert manifest.read_text() == pinned
    assert run(capsys, "verify")[:2] == (0, "")

    # The tag is rebuilt.
    new = pusher_anonymous.push_image(repo, "1", seed="second build")
    assert new != old

    code, stdout, errors = run(capsys, "verify")
    assert (code, errors) == (1, [])
    assert stdout == (
        f"{APP_AT}: {app}:1@{old} has drifted: the tag 1 now points to {new}. "
        "Run `pinner pin --update` to move the pin.\n"
    )

    code, stdout, errors = run(capsys, "pin", "--update", "--dry-run")
    assert (code, errors) == (1, [])
    assert stdout == f"{APP_AT}: {app}:1@{old} -> {app}:1@{new}\n"
    assert manifest.read_text() == pinned

    code, stdout, errors = run(capsys, "pin", "--update")
    assert (code, errors) == (1, [])
    assert stdout == f"{APP_AT}: {app}:1@{old} -> {app}:1@{new}\n"
    expected = DEPLOYMENT.format(
        app=f"{app}:1@{new}", sidecar=f"{app}:2@{sidecar}", frozen=f"{app}@{frozen}"
    )
    assert manifest.read_bytes() == expected.encode()

    assert run(capsys, "verify")[:2] == (0, "")
    assert run(capsys, "pin", "--update", "--dry-run") == (0, "", [])
    assert manifest.read_bytes() == expected.encode()


def test_update_pins_new_images_and_leaves_digest_only_pins(
    capsys: pytest.CaptureFixture[str], pusher_anonymous: Pusher, unique_repo: str
) -> None:
    old = pusher_anonymous.push_image(unique_repo, "1", seed="old")
    new = pusher_anonymous.push_image(unique_repo, "1", seed="new")
    sidecar = pusher_anonymous.push_image(unique_repo, "2", seed="sidecar")
    app = f"{pusher_anonymous.server.host}/{unique_repo}"
    # The digest-only pin names the old digest: it is left alone, whatever tag 1 says now.
    Path("web.yaml").write_text(
        DEPLOYMENT.format(app=f"{app}:1@{old}", sidecar=f"{app}:2", frozen=f"{app}@{old}")
    )

    assert summary(capsys, "pin", "--update", "web.yaml") == (
        "1 file scanned, 3 references found: 2 pinned, 1 already pinned, 0 exempt, 0 failed"
    )
    # The moved pin keeps its tag; the new one follows --keep-tag (off by default).
    assert Path("web.yaml").read_text() == DEPLOYMENT.format(
        app=f"{app}:1@{new}", sidecar=f"{app}@{sidecar}", frozen=f"{app}@{old}"
    )


def test_update_dry_run_in_github_format_says_drift(
    capsys: pytest.CaptureFixture[str], pusher_anonymous: Pusher, unique_repo: str
) -> None:
    old = pusher_anonymous.push_image(unique_repo, "1", seed="old")
    new = pusher_anonymous.push_image(unique_repo, "1", seed="new")
    frozen = pusher_anonymous.push_image(unique_repo, None)
    app = f"{pusher_anonymous.server.host}/{unique_repo}"
    text = DEPLOYMENT.format(app=f"{app}:1@{old}", sidecar=f"{app}@{frozen}", frozen=f"{app}@{old}")
    Path("web.yaml").write_text(text)

    code, stdout, _ = run(capsys, "pin", "--update", "--dry-run", "--format", "github")
    assert code == 1
    assert stdout == (
        f"::error file=web.yaml,line=11,col=18::{app}:1@{old} has drifted; "
        f"pinner pin --update would write {app}:1@{new}\n"
    )
    code, stdout, _ = run(capsys, "pin", "--update", "--format", "github")
    assert code == 1
    assert (
        stdout == f"::notice file=web.yaml,line=11,col=18::moved {app}:1@{old} to {app}:1@{new}\n"
    )


def test_update_moves_a_platform_pin_to_the_same_platform(
    capsys: pytest.CaptureFixture[str], pusher_anonymous: Pusher, unique_repo: str
) -> None:
    _, before = pusher_anonymous.push_index(unique_repo, "multi", seed="before")
    _, after = pusher_anonymous.push_index(unique_repo, "multi", seed="after")
    frozen = pusher_anonymous.push_image(unique_repo, None)
    app = f"{pusher_anonymous.server.host}/{unique_repo}"
    arm = "linux/arm64/v8"
    fields = {"sidecar": f"{app}@{frozen}", "frozen": f"{app}@{frozen}"}
    Path("web.yaml").write_text(DEPLOYMENT.format(app=f"{app}:multi@{before[arm]}", **fields))

    code, stdout, errors = run(capsys, "pin", "--update", "--platform", arm)

    assert (code, errors) == (1, [])
    assert stdout == f"{APP_AT}: {app}:multi@{before[arm]} -> {app}:multi@{after[arm]}\n"
    assert Path("web.yaml").read_text() == DEPLOYMENT.format(
        app=f"{app}:multi@{after[arm]}", **fields
    )
    assert run(capsys, "verify", "--platform", arm)[:2] == (0, "")


def test_a_tag_that_is_gone_fails_the_update_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], pusher_anonymous: Pusher, unique_repo: str
) -> None:
    digest = pusher_anonymous.push_image(unique_repo, "1")
    app = f"{pusher_anonymous.server.host}/{unique_repo}"
    text = DEPLOYMENT.format(app=f"{app}:gone@{digest}", sidecar=f"{app}:1", frozen=f"{app}:1")
    Path("web.yaml").write_text(text)

    code, stdout, errors = run(capsys, "pin", "--update")

    assert (code, stdout) == (2, "")
    host = pusher_anonymous.server.host
    assert errors == [
        f"error: Could not look up {app}:gone: {host} has no such repository, tag or digest "
        "(HTTP 404). Check that the repository and tag exist and are spelled right.",
        f"  used at {APP_AT}",
    ]
    assert Path("web.yaml").read_text() == text  # all or nothing: the file is not half pinned

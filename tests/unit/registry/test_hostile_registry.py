"""pinner against a hostile registry (tests/support/hostile_registry.py), one mode at a time.

Each test names the finding of issue 13 it holds: no secret printed (1, 2, 3), bounded memory
(4) and time (5, 6), connections only where they may go (8), no untrusted text raw on a
terminal or in a CI log (17), and no digest written that pinner did not verify (sha512 HEAD).
Every failure must be exit 2, one clear message, and no traceback.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import pinner.registry.client
from pinner.reference import parse_reference
from pinner.registry.client import MANIFEST_LIMIT, RegistryClient
from pinner.registry.errors import ImageLookupError
from pinner.registry.hosts import BlockedDestinationError, check_destination, reachable_from
from pinner.settings import Settings
from tests.support.cli import run_cli
from tests.support.hostile_registry import DIGEST, FORGED, TOKEN, HostileRegistry

pytestmark = pytest.mark.usefixtures("isolated", "docker_config")

POD = (
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n"
    "  - name: c\n    image: {image}\n"
)
# What a terminal or a CI log must never receive from pinner.
RAW_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


@pytest.fixture(autouse=True)
def _no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    real = pinner.registry.client.RegistryClient

    class Fast(real):  # type: ignore[misc,valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("sleep", lambda seconds: None)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(pinner.registry.client, "RegistryClient", Fast)


def assert_safe(text: str) -> None:
    """Nothing that moves the cursor or starts a line of its own; no forged command line."""
    assert not RAW_CONTROL_RE.search(text), repr(text)
    assert not any(line.lstrip().startswith("::warning file=README") for line in text.split("\n"))


def pin_a_pod(
    capsys: pytest.CaptureFixture[str], registry: HostileRegistry, output_format: str
) -> tuple[int, str, str]:
    """``pinner pin`` of a Pod whose image is on ``registry``, in ``output_format``."""
    Path("pod.yaml").write_text(POD.format(image=registry.image()), encoding="utf-8")
    return run_cli(capsys, "pin", "--no-config", "--format", output_format, "pod.yaml")


# 1. A token holding a line break is never printed, in any command or format.


@pytest.mark.parametrize("output_format", ["text", "json", "github"])
def test_a_token_with_a_line_break_is_refused_and_never_printed(
    capsys: pytest.CaptureFixture[str], output_format: str
) -> None:
    with HostileRegistry("token-newline") as registry:
        code, out, err = pin_a_pod(capsys, registry, output_format)
        requests = len(registry.requests)
    assert code == 2
    assert TOKEN not in out + err and "X-Injected" not in out + err
    assert f"the token service {registry.host} sent a token that holds a line break" in (
        out + err
    ).replace("\\n", " ")
    assert requests == 2  # the challenge and the token: the token was never sent, nor retried


def test_a_registry_token_with_a_line_break_names_the_docker_config(
    capsys: pytest.CaptureFixture[str], docker_config: Path
) -> None:
    config = docker_config / "config.json"
    with HostileRegistry("token-newline") as registry:
        secret = "registry-secret\r\nX-Injected: 1"
        config.write_text(json.dumps({"auths": {registry.host: {"registrytoken": secret}}}))
        code, out, err = run_cli(capsys, "digest", registry.image())
    assert code == 2
    assert "registry-secret" not in out + err
    assert (
        f"the registry token for {registry.host} in the docker config {config} holds a line "
        "break, a control or a non-ASCII character, so it cannot be sent in an HTTP header"
    ) in err


# 2. Mirrors and insecure registries are host[:port] only; a password in one is never shown.


@pytest.mark.parametrize(
    ("flag", "reason"),
    [
        ("--mirror=docker.io=alice:pa55word@127.0.0.1:5000", "holds a user name or password"),
        ("--mirror=docker.io=mirror.example?x=1#", "holds a query ('?')"),
        ("--mirror=docker.io=mirror.example#frag", "holds a fragment ('#')"),
        ("--mirror=docker.io=mirror.example ", "holds white space"),
        ("--mirror=docker.io=https://mirror.example", "holds a scheme"),
        ("--mirror=docker.io=mirror.example/hub", "holds a path ('/')"),
        ("--mirror=docker.io=mirror.example:99999", "has a port outside 1-65535"),
        ("--insecure-registry=alice:pa55word@registry.example", "holds a user name or password"),
        ("--insecure-registry=registry.example?x=1", "holds a query ('?')"),
        ("--insecure-registry=registry.example ", "holds white space"),
    ],
)
def test_mirror_and_insecure_registry_values_are_validated(
    capsys: pytest.CaptureFixture[str], flag: str, reason: str
) -> None:
    code, out, err = run_cli(capsys, "digest", "--no-config", flag, "nginx:1")
    assert code == 2
    assert reason in err
    assert "pa55word" not in out + err and "alice" not in out + err


def test_a_mirror_with_a_password_in_the_config_file_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    Path(".pinner.yaml").write_text("mirrors:\n  docker.io: 'alice:pa55word@mirror.example'\n")
    code, out, err = run_cli(capsys, "digest", "nginx:1")
    assert code == 2
    assert ".pinner.yaml:2: the mirror of 'docker.io' must be a host[:port]" in err
    assert "holds a user name or password" in err
    assert "pa55word" not in out + err


# 3. A non-ASCII token: a clear error, exit 2, no traceback.


def test_a_non_ascii_token_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    with HostileRegistry("token-non-ascii") as registry:
        code, out, err = run_cli(capsys, "digest", registry.image())
    assert code == 2
    assert TOKEN not in out + err
    assert (
        f"the token service {registry.host} sent a token that holds a line break, a control " in err
    )


def test_a_non_ascii_registry_token_in_the_docker_config_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], docker_config: Path
) -> None:
    with HostileRegistry("token-newline") as registry:
        (docker_config / "config.json").write_text(
            json.dumps({"auths": {registry.host: {"registrytoken": "tökén-secret"}}})
        )
        code, out, err = run_cli(capsys, "digest", registry.image())
    assert code == 2
    assert "tökén" not in out + err
    assert "so it cannot be sent in an HTTP header" in err


# 4. A gzip bomb is refused once its decoded bytes pass the cap, before memory grows.


def test_a_gzip_bomb_is_refused_at_the_cap() -> None:
    with (
        HostileRegistry("bomb") as registry,
        RegistryClient(Settings(retries=0), sleep=lambda s: None) as client,
        pytest.raises(ImageLookupError) as caught,
    ):
        client.resolve(parse_reference(registry.image()))
    assert f"sent a response larger than {MANIFEST_LIMIT} bytes" in str(caught.value)


def test_a_gzip_bomb_through_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    with HostileRegistry("bomb") as registry:
        code, _, err = run_cli(capsys, "digest", registry.image())
    assert code == 2
    assert f"{registry.host} sent a response larger than {MANIFEST_LIMIT} bytes" in err


# 6. A tag list that links back to itself, or on and on, ends with an error.


def test_a_tag_list_that_links_to_itself_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with HostileRegistry("link-loop") as registry:
        code, _, err = run_cli(capsys, "tags", f"{registry.host}/hostile/app@{DIGEST}")
        pages = sum("/tags/list" in request.path for request in registry.requests)
    assert code == 2
    assert "the tag list's next-page link points back at a page already read" in err
    assert pages == 1


def test_an_endless_tag_list_stops_at_the_total_cap(capsys: pytest.CaptureFixture[str]) -> None:
    with HostileRegistry("link-endless", page_tags=50_000) as registry:
        started = time.monotonic()
        code, _, err = run_cli(capsys, "tags", f"{registry.host}/hostile/app@{DIGEST}")
        pages = sum("/tags/list" in request.path for request in registry.requests)
    assert code == 2
    assert "the tag list is longer than pinner reads (more than 200000 tags or 32 MiB" in err
    assert pages == 5 and time.monotonic() - started < 60


# 17. Registry error codes and messages reach no terminal or CI log raw.


@pytest.mark.parametrize("output_format", ["text", "json", "github"])
def test_registry_errors_with_escapes_are_shown_safely(
    capsys: pytest.CaptureFixture[str], output_format: str
) -> None:
    with HostileRegistry("error-escapes") as registry:
        code, out, err = pin_a_pod(capsys, registry, output_format)
    assert code == 2
    assert_safe(out)
    assert_safe(err)
    shown = out + err
    assert "\\x1b[2J" in shown or "\\u001b[2J" in shown  # the code is shown, escaped
    if output_format == "json":
        assert "\\x1b[2J" in json.loads(out)["errors"][0]["message"]
    if output_format == "github":
        # placed at the image's line (main: errors carry their locations)
        assert any(line.startswith("::error file=") for line in out.splitlines())
        assert f"\\n{FORGED}" in out  # inside the annotation's message, not a line of its own


def test_digest_command_shows_registry_errors_safely(capsys: pytest.CaptureFixture[str]) -> None:
    with HostileRegistry("error-escapes") as registry:
        code, out, err = run_cli(capsys, "digest", registry.image())
    assert code == 2
    assert_safe(out + err)
    assert err.count("\n") == 1  # one message, one line


# The digest pinner writes is one it verified: a HEAD's sha512 is checked by a GET.


def test_a_sha512_digest_from_a_head_is_not_written_unverified(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with HostileRegistry("sha512-head") as registry:
        code, out, _ = run_cli(capsys, "digest", registry.image())
        methods = [request.method for request in registry.requests]
    assert code == 0
    assert out == f"{DIGEST}\n"
    assert methods == ["HEAD", "GET"]


# 5. A registry that drips its answer a byte at a time reaches the lookup's deadline.


def test_a_dripping_registry_meets_the_deadline(capsys: pytest.CaptureFixture[str]) -> None:
    with HostileRegistry("drip", interval=0.2) as registry:
        started = time.monotonic()
        code, _, err = run_cli(capsys, "digest", "--timeout", "1.5", registry.image())
        elapsed = time.monotonic() - started
    assert code == 2
    assert f"{registry.host} did not answer within 1.5s" in err
    assert elapsed < 1.5 + 3  # without the deadline: ~30 s, a byte every 0.2 s


# 8. Where a realm or redirect leads is decided on the resolved address, when connecting.

INTERNAL_NAMES = {"metadata.internal": "169.254.169.254", "localhost.": "127.0.0.1"}


@pytest.fixture
def outside(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Connections attempted beyond loopback, refused here (the network is loopback only), and
    internal names resolved without DNS."""
    attempted: list[tuple[str, int]] = []
    real_connect, real_lookup = socket.create_connection, socket.getaddrinfo

    def connect(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        host = INTERNAL_NAMES.get(address[0], address[0])
        resolved = real_lookup(host, address[1], type=socket.SOCK_STREAM)[0][4][0]
        if not ipaddress.ip_address(resolved).is_loopback:
            attempted.append(address)
            raise ConnectionRefusedError("the tests reach loopback only")
        return real_connect(address, *args, **kwargs)

    def lookup(host: str, *args: Any, **kwargs: Any) -> Any:
        return real_lookup(INTERNAL_NAMES.get(host, host), *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", connect)
    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    return attempted


@pytest.mark.parametrize(
    "host",
    [
        "2852039166",
        "0xa9.0xfe.0xa9.0xfe",
        "169.254.43518",
        "metadata.internal",
    ],
)
@pytest.mark.parametrize("mode", ["realm", "redirect"])
def test_realms_and_redirects_never_lead_to_the_metadata_address(
    capsys: pytest.CaptureFixture[str], outside: list[tuple[str, int]], host: str, mode: str
) -> None:
    with HostileRegistry(mode, target=f"https://{host}/token") as registry:
        code, _, err = run_cli(capsys, "digest", registry.image())
    assert code == 2
    assert f"refusing to connect to {host} (169.254.169.254), a link-local address" in err
    assert outside == []


@pytest.mark.parametrize("host", ["127.1", "localhost.", "10.0.0.1", "2130706433"])
def test_a_public_registry_may_not_lead_to_internal_addresses(
    outside: list[tuple[str, int]], host: str
) -> None:
    allowed = reachable_from("93.184.216.34:443")  # a public address: resolved, never reached
    with pytest.raises(BlockedDestinationError, match=f"refusing to connect to {host}"):
        check_destination(host, 443, allowed)
    assert check_destination("93.184.216.35", 443, allowed) == ["93.184.216.35"]


def test_a_loopback_registry_may_lead_to_loopback_but_not_to_link_local() -> None:
    allowed = reachable_from("127.0.0.1:5000")
    assert check_destination("127.1", 443, allowed) == ["127.0.0.1"]
    with pytest.raises(BlockedDestinationError, match="a link-local address"):
        check_destination("169.254.169.254", 443, allowed)
    with pytest.raises(BlockedDestinationError, match="an unroutable address"):
        check_destination("0.0.0.0", 443, allowed)


# 4, measured: the peak memory of `pinner digest` against the bomb.

RSS_LIMIT_KIB = 100 * 1024
# A fresh process runs pinner and reports its children's peak RSS: in this test process, the
# figure would be the largest of every child any earlier test started.
MEASURE = """
import resource, subprocess, sys
done = subprocess.run([sys.executable, "-m", "pinner", "digest", sys.argv[1]],
                      capture_output=True, text=True, timeout=120)
print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(done.stderr, file=sys.stderr)
"""


def peak_rss_kib(image: str) -> tuple[int, int, str]:
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, image],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "NO_COLOR": "1"},
        check=True,
    )
    code, kib = done.stdout.split()
    return int(code), int(kib), done.stderr


def test_pinner_digest_stays_under_100_mb_against_the_bomb() -> None:
    with HostileRegistry("bomb") as registry:
        code, kib, err = peak_rss_kib(registry.image())
    print(f"peak RSS of pinner digest against the 2 GiB gzip bomb: {kib / 1024:.1f} MiB")
    assert code == 2, err
    assert "sent a response larger than" in err
    assert kib < RSS_LIMIT_KIB

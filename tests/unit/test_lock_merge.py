"""Writing into an existing lock: what a partial run (pre-commit's staged files) keeps, updates,
adds and, with prune, drops. Pure text in, text out; then the file, written atomically."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pinner.errors import DigestFileError
from pinner.lockfile import load_digest_files, merge_lock, write_lock
from pinner.reference import Reference, parse_reference

A, B, C, D = (f"sha256:{letter * 64}" for letter in "abcd")
# What `pinner pin --write-digests` wrote for the whole tree: seven tags, sorted.
LOCK = f"""\
ghcr.io/acme/api:1@{A}
ghcr.io/acme/web:2@{A}
nginx:1.27@{A}
quay.io/org/job:5@{A}
redis:7@{A}
registry.k8s.io/pause:3.9@{A}
traefik:v3@{A}
"""


def pins(*entries: tuple[str, str]) -> dict[Reference, str]:
    return {parse_reference(image): digest for image, digest in entries}


@pytest.mark.parametrize(
    ("old", "new", "prune", "expected"),
    [
        pytest.param(
            LOCK,
            pins(("redis:7", B)),
            False,
            LOCK.replace(f"redis:7@{A}", f"redis:7@{B}"),
            id="a-staged-file-updates-its-line-and-keeps-the-six-others",
        ),
        pytest.param(LOCK, pins(("redis:7", A)), False, LOCK, id="nothing-new-nothing-changes"),
        pytest.param(
            LOCK,
            pins(("memcached:1.6", B), ("zookeeper:3", C)),
            False,
            LOCK.replace("nginx:", f"memcached:1.6@{B}\nnginx:") + f"zookeeper:3@{C}\n",
            id="new-tags-go-where-a-sorted-lock-sorts-them",
        ),
        pytest.param(
            f"# release 7: pinned by hand\n\nnginx:1.27@{A}\n\n# jobs\nquay.io/org/job:5@{A}\n",
            pins(("quay.io/org/job:5", B)),
            False,
            f"# release 7: pinned by hand\n\nnginx:1.27@{A}\n\n# jobs\nquay.io/org/job:5@{B}\n",
            id="comments-and-blank-lines-stay",
        ),
        pytest.param(
            f"docker.io/library/nginx:1.27@{A}\nindex.docker.io/library/redis@{A}\n",
            pins(("nginx:1.27", B)),
            False,
            f"nginx:1.27@{B}\nindex.docker.io/library/redis@{A}\n",
            id="the-same-image-however-written-is-one-entry",
        ),
        pytest.param(
            f"nginx:1.27@{A}\nnginx:1.27@{A}\nredis:7@{A}\nredis:7@{A}\n",
            pins(("nginx:1.27", B)),
            False,
            f"nginx:1.27@{B}\nredis:7@{A}\n",
            id="duplicate-lines-collapse",
        ),
        pytest.param(
            LOCK,
            pins(("redis:7", B), ("nginx:1.27", A)),
            True,
            f"nginx:1.27@{A}\nredis:7@{B}\n",
            id="prune-drops-the-tags-the-run-did-not-see",
        ),
        pytest.param(
            f"# lock\nnginx:1.27@{A}\nredis:7@{A}\n",
            pins(("redis:7", A)),
            True,
            f"# lock\nredis:7@{A}\n",
            id="prune-keeps-comments",
        ),
        pytest.param(
            f"nginx:1.27@{A}\r\nredis:7@{A}",
            pins(("redis:7", B)),
            False,
            f"nginx:1.27@{A}\nredis:7@{B}\n",
            id="crlf-and-no-final-newline",
        ),
    ],
)
def test_merge_lock(old: str, new: dict[Reference, str], prune: bool, expected: str) -> None:
    assert merge_lock("pins.lock", old, new, prune=prune) == expected


def test_a_malformed_line_in_the_old_lock_is_an_error_not_dropped() -> None:
    with pytest.raises(DigestFileError) as error:
        merge_lock("pins.lock", f"nginx:1.27@{A}\nredis:7@sha256:12\n", pins(("nginx:1.27", B)))
    assert str(error.value).startswith("pins.lock:2: 'redis:7@sha256:12' is not REFERENCE@")


def test_write_lock_creates_a_sorted_lock(tmp_path: Path) -> None:
    path = tmp_path / "pins.lock"
    assert write_lock(path, pins(("redis:7", A), ("nginx", B))) is True
    assert path.read_text() == f"nginx:latest@{B}\nredis:7@{A}\n"
    assert path.stat().st_mode & 0o777 == 0o666 & ~_umask()
    assert [p.name for p in tmp_path.iterdir()] == ["pins.lock"]  # no temporary file left


def test_write_lock_keeps_what_the_run_did_not_see(tmp_path: Path) -> None:
    path = tmp_path / "pins.lock"
    path.write_text(LOCK)
    path.chmod(0o640)
    assert write_lock(path, pins(("redis:7", B))) is True
    assert len(path.read_text().splitlines()) == 7
    assert load_digest_files([path])[parse_reference("redis:7").match_key] == B
    assert path.stat().st_mode & 0o777 == 0o640  # rewritten, not recreated
    assert write_lock(path, pins(("redis:7", B))) is False  # unchanged: not rewritten


def test_write_lock_refuses_cloud_build_json(tmp_path: Path) -> None:
    path = tmp_path / "build.json"
    path.write_text('{"results": {"images": []}}')
    with pytest.raises(DigestFileError, match="is Cloud Build JSON, not a lock file"):
        write_lock(path, pins(("redis:7", B)))
    assert path.read_text() == '{"results": {"images": []}}'


def test_write_lock_into_a_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DigestFileError, match="cannot write the lock file"):
        write_lock(tmp_path / "nope" / "pins.lock", pins(("redis:7", B)))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask

"""File-system faults while pinning: read-only files and folders, odd contents, a file changed by
someone else between pinner's read and its write, and symbolic links.

In every case a file pinner cannot pin completely stays byte for byte as it was, the other files
are still pinned, nothing is left behind, and the command says why and exits 2.

The exact messages for non-UTF-8, UTF-16, binary and unreadable files are in test_cli_errors.py;
here they meet good files in one run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

import pinner.manifests.rewrite
import pinner.manifests.staging
import pinner.writing
from pinner.cli import main
from pinner.manifests.rewrite import PendingWrite
from tests.support.cli import run_cli, without_summaries
from tests.support.files import write_file

A = "sha256:" + "a" * 64
POD = (
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n"
    "  - name: app\n    image: {}\n"
)
PINNED = POD.format(f"nginx@{A}")
DIGESTS = f"nginx:1.27@{A}\n"
NOBODY = 65534


@pytest.fixture(autouse=True)
def _digests(isolated: Path) -> None:
    Path("digests.txt").write_text(DIGESTS)


def pin(capsys: pytest.CaptureFixture[str], *paths: str) -> tuple[int, list[str]]:
    """Exit code and the error lines (the summary line left out)."""
    code, _, err = run_cli(
        capsys, "pin", "--no-config", "--offline", "--digests", "digests.txt", *paths
    )
    return code, without_summaries(err, "pinner pin:")


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*pinner-tmp*"))


# --- read-only files and folders -----------------------------------------------------------------


@pytest.fixture
def immutable() -> Iterator[list[Path]]:
    """Paths to make immutable with chattr +i (root ignores permission bits, not this flag)."""
    marked: list[Path] = []
    yield marked
    for path in marked:
        subprocess.run(["chattr", "-i", str(path)], check=False)


def make_immutable(marked: list[Path], path: Path) -> None:
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    result = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"chattr +i does not work here: {result.stderr.strip()}")
    marked.append(path)


def test_an_immutable_file_is_left_alone(
    capsys: pytest.CaptureFixture[str], immutable: list[Path]
) -> None:
    locked = write_file("k8s/locked.yaml", POD.format("nginx:1.27"))
    other = write_file("k8s/other.yaml", POD.format("nginx:1.27"))
    make_immutable(immutable, locked)
    code, errors = pin(capsys, "k8s")
    assert code == 2
    assert errors == [
        "error: k8s/locked.yaml: cannot write the file (Permission denied); it was not changed. "
        "Check the permissions of the file and its folder."
    ]
    assert locked.read_text() == POD.format("nginx:1.27")
    assert other.read_text() == PINNED
    assert leftovers(Path("k8s")) == []


def test_an_immutable_folder_is_left_alone(
    capsys: pytest.CaptureFixture[str], immutable: list[Path]
) -> None:
    locked = write_file("locked/pod.yaml", POD.format("nginx:1.27"))
    other = write_file("open/pod.yaml", POD.format("nginx:1.27"))
    make_immutable(immutable, locked.parent)
    code, errors = pin(capsys, "locked", "open")
    assert code == 2
    assert errors == [
        "error: locked/pod.yaml: cannot write the file (Operation not permitted); it was not "
        "changed. Check the permissions of the file and its folder."
    ]
    assert locked.read_text() == POD.format("nginx:1.27")
    assert other.read_text() == PINNED
    assert leftovers(Path(".")) == []


# Run as another user, pinner meets permission bits. The interpreter and its modules live under
# /root, so the child first does a dry run as root (importing all it needs), then drops to nobody.
AS_NOBODY = f"""
import contextlib, io, os, sys
from pinner.cli import main
from pinner.manifests.rewrite import PendingWrite
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    main([*sys.argv[1:], "--dry-run"])
os.setgroups([])
os.setgid({NOBODY})
os.setuid({NOBODY})
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A folder another user can enter (pytest's tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="pinner-faults-"))
    folder.chmod(0o755)
    yield folder
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    shutil.rmtree(folder)


def pin_as_another_user(folder: Path, *paths: str) -> subprocess.CompletedProcess[str]:
    args = ["pin", "--no-config", "--offline", "--digests", "digests.txt", *paths]
    if os.geteuid() == 0:
        command = [sys.executable, "-c", AS_NOBODY, *args]
    else:  # permission bits already apply to this user
        command = [sys.executable, "-m", "pinner", *args]
    env = {**os.environ, "NO_COLOR": "1", "HOME": str(folder)}
    return subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=60)


def owned(path: Path, mode: int) -> None:
    if os.geteuid() == 0:
        os.chown(path, NOBODY, NOBODY)
    path.chmod(mode)


def test_a_read_only_file_is_not_replaced(shared_folder: Path) -> None:
    """Renaming over a read-only file needs only the folder's permission; pinner refuses."""
    (shared_folder / "digests.txt").write_text(DIGESTS)
    owned(shared_folder, 0o755)
    read_only = shared_folder / "read-only.yaml"
    writable = shared_folder / "writable.yaml"
    for path, mode in ((read_only, 0o444), (writable, 0o644)):
        path.write_text(POD.format("nginx:1.27"))
        owned(path, mode)
    result = pin_as_another_user(shared_folder, "read-only.yaml", "writable.yaml")
    assert "Traceback" not in result.stderr
    assert result.returncode == 2, result.stderr
    assert (
        "error: read-only.yaml: cannot write the file (Permission denied); it was not changed."
        in result.stderr
    )
    assert read_only.read_text() == POD.format("nginx:1.27")
    assert read_only.stat().st_mode & 0o777 == 0o444
    assert writable.read_text() == PINNED
    assert leftovers(shared_folder) == []


def test_a_read_only_folder_is_left_alone(shared_folder: Path) -> None:
    (shared_folder / "digests.txt").write_text(DIGESTS)
    folder = shared_folder / "k8s"
    folder.mkdir()
    path = folder / "pod.yaml"
    path.write_text(POD.format("nginx:1.27"))
    owned(path, 0o644)
    owned(folder, 0o555)
    result = pin_as_another_user(shared_folder, "k8s")
    assert "Traceback" not in result.stderr
    assert result.returncode == 2, result.stderr
    assert (
        "error: k8s/pod.yaml: cannot write the file (Permission denied); it was not changed."
        in result.stderr
    )
    assert path.read_text() == POD.format("nginx:1.27")
    assert leftovers(shared_folder) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the file another owner")
def test_a_file_whose_owner_cannot_be_kept_is_left_alone(shared_folder: Path) -> None:
    """nobody may write root's 0666 file, but a new copy would be nobody's: pinner refuses."""
    (shared_folder / "digests.txt").write_text(DIGESTS)
    owned(shared_folder, 0o755)
    path = shared_folder / "roots.yaml"
    path.write_text(POD.format("nginx:1.27"))
    path.chmod(0o666)  # root's, writable by anyone
    result = pin_as_another_user(shared_folder, "roots.yaml")
    assert "Traceback" not in result.stderr
    assert result.returncode == 2, result.stderr
    assert (
        "error: roots.yaml: the file belongs to user 0 and group 0, which pinner (user 65534) "
        "cannot give its new copy; it was not changed. Run pinner as the file's owner."
    ) in result.stderr
    assert path.read_text() == POD.format("nginx:1.27")
    assert path.stat().st_uid == 0
    assert leftovers(shared_folder) == []


# --- contents ------------------------------------------------------------------------------------


ODD_FILES: dict[str, bytes] = {
    "empty.yaml": b"",
    "blank.yaml": b"\n\n  \n",
    "comments.yaml": b"# nothing here yet\n# image: nginx:1.27\n",
    "markers.yaml": b"---\n...\n---\n",
    "not-kubernetes.json": b'{"image": "nginx:1.27"}',
    "not-utf8.yaml": POD.format("nginx:1.27").encode() + b"# caf\xe9\n",
    "binary.yaml": b"\x7fELF\x02\x01\x01\x00\x00\x00image: nginx:1.27\n",
    "utf16.yaml": b"\xff\xfe" + POD.format("nginx:1.27").encode("utf-16-le"),
    "truncated-utf8.yaml": POD.format("nginx:1.27").encode() + "# é".encode()[:-1],
}


def test_odd_files_beside_good_ones(capsys: pytest.CaptureFixture[str]) -> None:
    for name, data in ODD_FILES.items():
        write_file(f"k8s/{name}", data)
    good = write_file("k8s/z-good.yaml", POD.format("nginx:1.27"))
    code, errors = pin(capsys, "k8s")
    assert code == 2
    failed = sorted(line.removeprefix("error: k8s/").split(":")[0] for line in errors)
    assert failed == ["binary.yaml", "not-utf8.yaml", "truncated-utf8.yaml", "utf16.yaml"]
    for name, data in ODD_FILES.items():
        assert Path("k8s", name).read_bytes() == data, name
    assert good.read_text() == PINNED


@pytest.mark.parametrize("name", ["empty.yaml", "blank.yaml", "comments.yaml", "markers.yaml"])
def test_a_file_with_nothing_to_pin_is_not_an_error(
    capsys: pytest.CaptureFixture[str], name: str
) -> None:
    path = write_file(name, ODD_FILES[name])
    assert pin(capsys, name) == (0, [])
    code = main(["check", "--no-config", name])
    assert code == 0
    assert path.read_bytes() == ODD_FILES[name]


def test_a_digest_file_nested_too_deeply_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    write_file("digests.txt", '{"results": {"images": ' + "[" * 50_000)
    path = write_file("pod.yaml", POD.format("nginx:1.27"))
    code, errors = pin(capsys, "pod.yaml")
    assert code == 2
    assert errors[0].startswith("error: digests.txt: not a digest file: JSON must be")
    assert path.read_text() == POD.format("nginx:1.27")


# --- a file changed by someone else ---------------------------------------------------------------


THEIRS = POD.format("nginx:1.27") + "# a line someone added meanwhile\n"
CONFLICT = (
    "error: pod.yaml: the file changed on disk while pinner was working; it was not overwritten. "
    "Run pinner again."
)


def test_a_change_before_the_write_is_not_overwritten(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_file("pod.yaml", POD.format("nginx:1.27"))
    other = write_file("other.yaml", POD.format("nginx:1.27"))
    real = pinner.writing.write_all_atomic

    def someone_edits_first(writes: Sequence[PendingWrite]) -> list[Exception | None]:
        path.write_text(THEIRS)
        return real(writes)

    monkeypatch.setattr(pinner.writing, "write_all_atomic", someone_edits_first)
    code, errors = pin(capsys, "pod.yaml", "other.yaml")
    assert (code, errors) == (2, [CONFLICT])
    assert path.read_text() == THEIRS
    assert other.read_text() == PINNED
    assert leftovers(Path(".")) == []


def test_a_change_during_the_write_is_not_overwritten(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The edit lands after pinner wrote its temporary file, just before it compares."""
    path = write_file("pod.yaml", POD.format("nginx:1.27"))
    real_fchmod = os.fchmod
    edits: list[int] = []

    def fchmod_then_someone_edits(descriptor: int, mode: int) -> None:
        real_fchmod(descriptor, mode)
        edits.append(descriptor)
        path.write_text(THEIRS)

    monkeypatch.setattr(pinner.manifests.staging.os, "fchmod", fchmod_then_someone_edits)
    code, errors = pin(capsys, "pod.yaml")
    assert edits, "the temporary file was not made as expected"
    assert (code, errors) == (2, [CONFLICT])
    assert path.read_text() == THEIRS
    assert leftovers(Path(".")) == []


# --- symbolic links ------------------------------------------------------------------------------


@pytest.fixture
def linked_tree() -> Path:
    """k8s/ with a real file and links to it, to a file and a folder outside, and broken links."""
    write_file("k8s/real.yaml", POD.format("nginx:1.27"))
    write_file("outside/elsewhere.yaml", POD.format("nginx:1.27"))
    Path("k8s/link-inside.yaml").symlink_to("real.yaml")
    Path("k8s/link-outside.yaml").symlink_to("../outside/elsewhere.yaml")
    Path("k8s/linked-folder").symlink_to("../outside")
    Path("k8s/dangling.yaml").symlink_to("missing.yaml")
    Path("k8s/loop.yaml").symlink_to("loop.yaml")
    return Path("k8s")


LINKS = {
    "k8s/link-inside.yaml": "real.yaml",
    "k8s/link-outside.yaml": "../outside/elsewhere.yaml",
    "k8s/linked-folder": "../outside",
    "k8s/dangling.yaml": "missing.yaml",
    "k8s/loop.yaml": "loop.yaml",
}


@pytest.mark.parametrize("walk", ["plain", "git"])
def test_links_inside_a_folder_are_skipped(
    capsys: pytest.CaptureFixture[str], linked_tree: Path, walk: str
) -> None:
    """The folder's own files are pinned once; links (to them, or out of the folder) are not
    followed, and stay links."""
    if walk == "git":
        if shutil.which("git") is None:
            pytest.skip("git is not installed")
        subprocess.run(["git", "init", "-q", "."], check=True)
    code = main(["pin", "--no-config", "--offline", "--digests", "digests.txt", "k8s"])
    captured = capsys.readouterr()
    assert code == 1, captured.err
    assert "pinner pin: 1 file scanned" in captured.err
    assert Path("k8s/real.yaml").read_text() == PINNED
    assert Path("outside/elsewhere.yaml").read_text() == POD.format("nginx:1.27")
    for link, target in LINKS.items():
        assert Path(link).is_symlink() and os.readlink(link) == target, link


def test_a_link_named_on_the_command_line_pins_its_target(
    capsys: pytest.CaptureFixture[str], linked_tree: Path
) -> None:
    """A file named explicitly is read even through a link; the target is rewritten in place,
    and the link stays a link."""
    code, errors = pin(capsys, "k8s/link-outside.yaml")
    assert (code, errors) == (1, [])
    assert Path("outside/elsewhere.yaml").read_text() == PINNED
    assert os.readlink("k8s/link-outside.yaml") == "../outside/elsewhere.yaml"
    assert leftovers(Path(".")) == []


def test_a_file_and_a_link_to_it_are_pinned_once(
    capsys: pytest.CaptureFixture[str], linked_tree: Path
) -> None:
    code = main(
        [
            *("pin", "--no-config", "--offline", "--digests", "digests.txt"),
            *("k8s/real.yaml", "k8s/link-inside.yaml"),
        ]
    )
    assert code == 1
    assert "1 file scanned" in capsys.readouterr().err
    assert Path("k8s/real.yaml").read_text() == PINNED


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("dangling.yaml", "No such file or directory"),
        ("loop.yaml", "Too many levels of symbolic links"),
    ],
)
def test_a_broken_link_named_on_the_command_line_is_an_error(
    capsys: pytest.CaptureFixture[str], linked_tree: Path, name: str, reason: str
) -> None:
    code, errors = pin(capsys, f"k8s/{name}")
    assert code == 2
    assert errors == [
        f"error: k8s/{name}: cannot read the file ({reason}). Check that it exists and that you "
        "may read it."
    ]
    assert Path("k8s", name).is_symlink()


def test_leftover_temporary_files_are_never_read(capsys: pytest.CaptureFixture[str]) -> None:
    """What a killed run may leave (see test_kill.py) is hidden and has no manifest suffix."""
    write_file("k8s/pod.yaml", POD.format("nginx:1.27"))
    write_file("k8s/.pod.yaml.x1y2z3.pinner-tmp", POD.format("nginx:1.27")[:40])
    code = main(["check", "--no-config", "k8s"])
    assert code == 1
    assert "1 file scanned" in capsys.readouterr().err

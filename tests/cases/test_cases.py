"""Case pairs: `tests/cases/<case>/input.*` pinned offline gives `expected.*`, byte for byte.

A case without ``expected.*`` is a no-op: the file must come out identical. An ``args`` file holds
extra ``pin`` arguments, one per line; a ``check-exit`` file the exit code ``check`` gives after
``pin`` (default 0). A case with a ``Chart.yaml`` is a Helm chart: its input is pinned as the
chart's ``values.yaml``. Every case is pinned from ``tests/cases/digests.txt``.
The fixture files are committed as they are (CRLF, BOM, tabs...): never generate them here.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pinner.cli import main
from tests.support.paths import CASES

pytestmark = pytest.mark.usefixtures("isolated")

DIGESTS = CASES / "digests.txt"
CASE_DIRS = sorted(path for path in CASES.iterdir() if any(path.glob("input.*")))


def _only(folder: Path, stem: str) -> Path | None:
    found = sorted(folder.glob(f"{stem}.*"))
    assert len(found) <= 1, f"{folder.name}: more than one {stem}.*"
    return found[0] if found else None


def _args(folder: Path) -> list[str]:
    path = folder / "args"
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def _check_exit(folder: Path) -> int:
    path = folder / "check-exit"
    return int(path.read_text(encoding="utf-8")) if path.exists() else 0


def _place(folder: Path, source: Path, destination: Path) -> Path:
    """Copy the case's input into ``destination``: a chart's as values.yaml beside Chart.yaml."""
    chart = folder / "Chart.yaml"
    if not chart.exists():
        target = destination / source.name
    else:
        shutil.copyfile(chart, destination / chart.name)
        target = destination / f"values{source.suffix}"
    shutil.copyfile(source, target)
    return target


def _exempt_args(args: list[str]) -> list[str]:
    """The ``--exempt PATTERN`` pairs of ``args``: the ones ``check`` takes too."""
    pairs: list[str] = []
    for index, arg in enumerate(args):
        if arg == "--exempt":
            pairs += [arg, args[index + 1]]
    return pairs


def test_cases_are_found() -> None:
    assert len(CASE_DIRS) >= 40
    for folder in CASE_DIRS:
        source = _only(folder, "input")
        assert source is not None, f"{folder.name} has no input.*"
        expected = _only(folder, "expected")
        assert expected is None or expected.suffix == source.suffix, folder.name


@pytest.mark.parametrize("folder", CASE_DIRS, ids=[path.name for path in CASE_DIRS])
def test_case(folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _only(folder, "input")
    assert source is not None
    expected_path = _only(folder, "expected")
    original = source.read_bytes()
    expected = expected_path.read_bytes() if expected_path is not None else original
    args = _args(folder)
    target = _place(folder, source, tmp_path)
    placed = sorted(tmp_path.iterdir())

    code = main(["pin", "--offline", "--digests", str(DIGESTS), str(target), *args])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert target.read_bytes() == expected
    assert code == (1 if expected_path is not None else 0), captured.err

    # A second run finds nothing left to do, and check agrees the file is pinned.
    code = main(["pin", "--offline", "--digests", str(DIGESTS), str(target), *args])
    assert code == 0, capsys.readouterr().err
    assert target.read_bytes() == expected
    code = main(["check", str(target), *_exempt_args(args)])
    captured = capsys.readouterr()
    assert code == _check_exit(folder), captured.out + captured.err
    assert sorted(tmp_path.iterdir()) == placed, "a temporary file was left behind"


def test_unchanged_input_is_not_rewritten(tmp_path: Path) -> None:
    """A no-op leaves the file itself alone (same inode, same mtime), not a copy of it."""
    folder = CASES / "already-pinned"
    target = tmp_path / "input.yaml"
    shutil.copyfile(folder / "input.yaml", target)
    before = target.stat()
    assert main(["pin", "--offline", "--digests", str(DIGESTS), str(target), "-q"]) == 0
    after = target.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_all_cases_in_one_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The whole folder at once (no extra args): the same bytes as case by case."""
    plain = [folder for folder in CASE_DIRS if not _args(folder)]
    targets = {}
    for folder in plain:
        (tmp_path / folder.name).mkdir()
        source = _only(folder, "input")
        assert source is not None
        targets[folder] = _place(folder, source, tmp_path / folder.name)
    code = main(["pin", "--offline", "--digests", str(DIGESTS), str(tmp_path)])
    assert code == 1, capsys.readouterr().err
    for folder, target in targets.items():
        expected = _only(folder, "expected") or _only(folder, "input")
        assert expected is not None
        assert target.read_bytes() == expected.read_bytes(), folder.name

"""Repository-wide runs: which files pinner reads in a git work tree, and outside one."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from pinner.cli import main
from pinner.errors import ManifestError
from pinner.manifests.walk import discover, is_excluded

POD = "kind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n    image: {}\n"
# Every file holds one unpinned image, named after the file, so `check` output shows what it read.
TREE = [
    "a.yaml",
    "notes.txt",
    "z.json",
    "sub/b.yml",
    "sub/deeper/c.yaml",
    "ignored/d.yaml",  # .gitignore'd
    "build.yaml",  # .gitignore'd by a pattern
    ".hidden/e.yaml",
    ".dotfile.yaml",
    "vendor/f.yaml",
    "node_modules/pkg/g.yaml",
    "third_party/h.yaml",
    "charts/app/templates/i.yaml",  # excluded by --exclude
    "generated/j.yaml",  # excluded by .pinner.yaml
]
# In the order a sorted walk visits them: a folder's files, then its subfolders.
READ_IN_GIT = [
    "a.yaml",
    "z.json",
    "charts/app/templates/i.yaml",
    "generated/j.yaml",
    "sub/b.yml",
    "sub/deeper/c.yaml",
]


def git(*args: str, cwd: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, timeout=60)


def make_tree(root: Path, outside: Path) -> None:
    for name in TREE:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        image = Path(name).stem + ":1"
        path.write_text(POD.format(image) if name.endswith((".yaml", ".yml")) else "{}\n")
    (root / "z.json").write_text(
        '{"kind": "Pod", "spec": {"containers": [{"name": "z", "image": "z:1"}]}}\n'
    )
    (root / ".gitignore").write_text("/ignored/\nbuild.*\n")
    outside.mkdir()
    (outside / "secret.yaml").write_text(POD.format("outside:1"))
    (root / "linked-out.yaml").symlink_to(outside / "secret.yaml")  # a file out of the tree
    (root / "linked-dir").symlink_to(outside, target_is_directory=True)  # a folder out of it
    (root / "alias.yaml").symlink_to("a.yaml")  # inside: a.yaml is read once, as a.yaml


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    make_tree(root, tmp_path / "outside")
    git("init", "-q", cwd=root)
    git("add", "a.yaml", "sub", cwd=root)  # tracked; the rest stays untracked but not ignored
    return root


def listed(folder: Path, exclude: tuple[str, ...] = ()) -> list[str]:
    return [
        Path(display).relative_to(folder).as_posix()
        for display, _ in discover([str(folder)], exclude)
    ]


def test_git_work_tree_lists_only_what_git_would_track(repo: Path) -> None:
    assert listed(repo) == READ_IN_GIT


def test_outside_git_the_folder_is_walked(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    make_tree(root, tmp_path / "outside")
    assert listed(root) == [
        "a.yaml",
        "build.yaml",  # no .gitignore outside git
        "z.json",
        "charts/app/templates/i.yaml",
        "generated/j.yaml",
        "ignored/d.yaml",
        "sub/b.yml",
        "sub/deeper/c.yaml",
    ]


def test_exclude_globs(repo: Path) -> None:
    assert listed(repo, ("charts/**", "generated")) == [
        "a.yaml",
        "z.json",
        "sub/b.yml",
        "sub/deeper/c.yaml",
    ]
    assert listed(repo, ("*.json", "deeper", "templates/*.yaml")) == [
        "a.yaml",
        "generated/j.yaml",
        "sub/b.yml",
    ]
    assert listed(repo, ("./sub/",)) == READ_IN_GIT[:4]


@pytest.mark.parametrize(
    "parts, pattern, expected",
    [
        (("k8s", "charts", "x.yaml"), "charts/**", True),
        (("k8s", "charts", "x.yaml"), "charts", True),
        (("k8s", "mycharts", "x.yaml"), "charts", False),
        (("a", "b", "c.json"), "*.json", True),
        (("a", "b", "c.json"), "a/*/c.json", True),
        (("a", "b", "c.json"), "b/c.json", True),
        (("a", "b", "c.json"), "A/b/c.json", False),  # case matters
        (("a", "b", "c.yaml"), "*.json", False),
        (("dev", "x.yaml"), "dev/*", True),
        (("dev", "x", "y.yaml"), "dev/*", True),  # `*` also matches `/`
    ],
)
def test_glob_semantics(parts: tuple[str, ...], pattern: str, expected: bool) -> None:
    assert is_excluded(parts, (pattern,)) is expected


def test_check_reads_only_the_right_files(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(repo)
    monkeypatch.setenv("NO_COLOR", "1")
    Path(".pinner.yaml").write_text("exclude: [generated]\n")
    assert main(["check", "--exclude", "charts/**", "."]) == 1
    captured = capsys.readouterr()
    images = [line.split(": ")[1].split()[0] for line in captured.out.splitlines()]
    assert images == ["a:1", "z:1", "b:1", "c:1"]
    assert "4 files scanned" in captured.err


def test_named_files_are_read_whatever_their_name_unless_excluded(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    named = ["ignored/d.yaml", ".hidden/e.yaml", "./vendor/f.yaml", "a.yaml", "alias.yaml"]
    assert [display for display, _ in discover(named)] == named[:4]  # alias.yaml is a.yaml
    assert [display for display, _ in discover(named, ["vendor", "e.yaml"])] == [
        "ignored/d.yaml",
        "a.yaml",
    ]


def test_a_folder_named_twice_is_read_once(repo: Path) -> None:
    found = [path for _, path in discover([str(repo), str(repo / "sub")])]
    assert len(found) == len(set(found)) == 6


def test_git_hook_variables_do_not_redirect_the_listing(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    git("init", "-q", cwd=other)
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    assert listed(repo) == READ_IN_GIT


def test_without_git_installed_the_folder_is_walked(repo: Path, fake_bin: Path) -> None:
    assert "ignored/d.yaml" in listed(repo)


def test_git_failing_is_an_error_not_a_silent_walk(
    repo: Path,
    fake_bin: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake = fake_bin / "git"
    fake.write_text(
        "#!/bin/sh\necho \"fatal: detected dubious ownership in repository at '$PWD'\" >&2\n"
        "exit 128\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("NO_COLOR", "1")
    with pytest.raises(ManifestError, match="dubious ownership"):
        listed(repo)
    monkeypatch.chdir(repo)
    assert main(["check", "--no-config", "."]) == 2
    assert capsys.readouterr().err == (
        "error: .: `git ls-files` failed (fatal: detected dubious ownership in repository at "
        f"'{repo}'); pinner lists folders in a git work tree with git so that .gitignore is "
        "honoured. Fix what git reports, then run again.\n"
    )

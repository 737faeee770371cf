"""Commands that need no network must not pay for the network stack at start-up.

A commit hook runs `pinner check` on every commit: httpx alone costs more than pinner's own
start-up. The test runs the real command in a fresh interpreter and lists what it imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# Modules that only `pin` (online), `digest`, `verify` and `tags` need.
NETWORK_MODULES = (
    "httpx",
    "httpcore",
    "pinner.registry.client",
    "pinner.registry.transport",
    "pinner.registry.session",
)
PROBE = """
import json, sys
from pinner.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.__stderr__)
"""


def imported_by(args: list[str], cwd: Path) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )
    report = json.loads(result.stderr.strip().splitlines()[-1])
    assert report["code"] in (0, 1), result.stderr
    return set(report["modules"])


@pytest.mark.parametrize(
    "args",
    [
        ["check", "pod.yaml"],
        ["pin", "--offline", "--digests", "digests.txt", "--dry-run", "pod.yaml"],
        ["policy"],
    ],
    ids=["check", "pin-offline", "policy"],
)
def test_offline_commands_do_not_import_the_network_stack(args: list[str], tmp_path: Path) -> None:
    (tmp_path / "pod.yaml").write_text(
        "kind: Pod\nspec:\n  containers:\n  - name: a\n    image: nginx:1.27\n"
    )
    (tmp_path / "digests.txt").write_text(f"nginx:1.27@sha256:{'a' * 64}\n")
    modules = imported_by(args, tmp_path)
    assert not [name for name in NETWORK_MODULES if name in modules]
    assert "rich" not in modules  # typer's fancy output is only for --help and tracebacks


# What a commit hook runs: the module entry point, in a fresh interpreter, with its imports
# listed by -X importtime. TLS, the registry client and its keychain are for online commands.
HEAVY_FOR_CHECK = (
    *NETWORK_MODULES,
    "h11",
    "ssl",
    "rich",
    "pinner.registry.keychains",
    "pinner.registry.credentials",
    "pinner.registry.resolver",
    "pydantic",  # typer 0.29 imports it on every run; pyproject keeps typer below 0.29
    # Worker processes are only for trees of many files (pinner.manifests.workers).
    "pinner.manifests.workers",
    "concurrent.futures",
    "multiprocessing",
    # Shell completion: only when the shell asks, or for `pinner completion`.
    "pinner.cli.completion",
    # Other commands' modules: a run registers only the command it runs.
    "pinner.cli.pin",
    "pinner.cli.verify",
    "pinner.verify",
)


def test_python_m_pinner_check_imports_nothing_heavy(tmp_path: Path) -> None:
    manifest = tmp_path / "pod.yaml"
    manifest.write_text("kind: Pod\nspec:\n  containers:\n  - name: a\n    image: nginx:1.27\n")
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "pinner", "check", str(manifest)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stderr  # nginx:1.27 is not pinned
    imported = {
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }
    assert "pinner.manifests.finder" in imported  # the listing works
    assert sorted(imported.intersection(HEAVY_FOR_CHECK)) == []

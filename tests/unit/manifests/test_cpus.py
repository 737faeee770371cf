"""How many CPUs pinner may keep busy: the affinity mask, capped by a container's CPU limit.

The cgroup files are written under a temporary folder that stands for /sys/fs/cgroup, with a
/proc/self/cgroup of the test's choosing, in the formats the kernel uses (cgroup v2 ``cpu.max``;
v1 ``cpu.cfs_quota_us`` and ``cpu.cfs_period_us``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pinner.manifests.cpus import cgroup_cpu_limit, usable_cpus

AFFINITY = len(os.sched_getaffinity(0))


def cgroup(tmp_path: Path, membership: str, files: dict[str, str]) -> tuple[Path, Path]:
    root = tmp_path / "cgroup"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text(membership)
    return root, proc


@pytest.mark.parametrize(
    ("membership", "files", "expected"),
    [
        # cgroup v2, a container's own cgroup at the root of its namespace.
        ("0::/\n", {"cpu.max": "200000 100000\n"}, 2),
        ("0::/\n", {"cpu.max": "150000 100000\n"}, 2),  # 1.5 CPUs: two can be kept busy
        ("0::/\n", {"cpu.max": "50000 100000\n"}, 1),  # half a CPU: still one
        ("0::/\n", {"cpu.max": "max 100000\n"}, None),  # no limit
        # v2 with the host's path in /proc: the named cgroup, or else the namespace's root.
        ("0::/kubepods/pod1/c1\n", {"kubepods/pod1/c1/cpu.max": "300000 100000\n"}, 3),
        ("0::/kubepods/pod1/c1\n", {"cpu.max": "400000 100000\n"}, 4),
        # cgroup v1: the cpu controller's hierarchy, alone or mounted with cpuacct.
        (
            "4:memory:/x\n2:cpuacct:/\n1:cpu:/\n",
            {"cpu/cpu.cfs_quota_us": "250000\n", "cpu/cpu.cfs_period_us": "100000\n"},
            3,
        ),
        (
            "3:cpu,cpuacct:/docker/abc\n",
            {
                "cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "100000\n",
                "cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n",
            },
            1,
        ),
        (
            "1:cpu:/\n",
            {"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"},
            None,
        ),
        # Nothing readable, or nonsense: no limit is assumed, rather than a wrong one.
        ("0::/\n", {}, None),
        ("0::/\n", {"cpu.max": "lots 100000\n"}, None),
        ("0::/\n", {"cpu.max": "100000 0\n"}, None),
        ("garbage\n", {"cpu.max": "100000 100000\n"}, None),
    ],
)
def test_cgroup_cpu_limit(
    tmp_path: Path, membership: str, files: dict[str, str], expected: int | None
) -> None:
    root, proc = cgroup(tmp_path, membership, files)
    assert cgroup_cpu_limit(root, proc) == expected


def test_no_proc_means_no_limit(tmp_path: Path) -> None:
    assert cgroup_cpu_limit(tmp_path, tmp_path / "missing") is None


def test_usable_cpus_is_the_affinity_mask_without_a_limit(tmp_path: Path) -> None:
    root, proc = cgroup(tmp_path, "0::/\n", {"cpu.max": "max 100000\n"})
    assert usable_cpus(root, proc) == AFFINITY


def test_a_cpu_limit_caps_usable_cpus(tmp_path: Path) -> None:
    root, proc = cgroup(tmp_path, "0::/\n", {"cpu.max": "100000 100000\n"})
    assert usable_cpus(root, proc) == 1


def test_a_limit_above_the_affinity_mask_does_not_raise_it(tmp_path: Path) -> None:
    quota = (AFFINITY + 10) * 100000
    root, proc = cgroup(tmp_path, "0::/\n", {"cpu.max": f"{quota} 100000\n"})
    assert usable_cpus(root, proc) == AFFINITY

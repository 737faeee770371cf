"""How many CPUs this process may keep busy: its affinity mask, and a container's CPU limit.

``os.cpu_count()`` is the machine's count. A process pinned with ``taskset`` may use fewer (its
affinity mask), and a container with a CPU limit (Kubernetes ``resources.limits.cpu``, ``docker
run --cpus``) gets a cgroup quota that the kernel enforces by pausing it: a CI job in a pod
limited to 2 CPUs on a 64-core node must not start 64 workers. The quota is read from cgroup v2
(``cpu.max``) or v1 (``cpu.cfs_quota_us`` and ``cpu.cfs_period_us``) for this process's cgroup.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")


def usable_cpus(root: Path = CGROUP_ROOT, membership: Path = PROC_CGROUP) -> int:
    """The CPUs this process may run on, capped by its cgroup's CPU quota (at least 1)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cpus = os.cpu_count() or 1
    quota = cgroup_cpu_limit(root, membership)
    return max(1, min(cpus, quota) if quota is not None else cpus)


def cgroup_cpu_limit(root: Path = CGROUP_ROOT, membership: Path = PROC_CGROUP) -> int | None:
    """The cgroup CPU quota in whole CPUs (1.5 counts as 2), or None when there is none."""
    try:
        lines = membership.read_text().splitlines()
    except OSError:  # not Linux, or no /proc
        return None
    for line in lines:
        fields = line.split(":", 2)  # hierarchy id, controllers, path
        if len(fields) != 3:
            continue
        _, controllers, path = fields
        relative = path.lstrip("/")
        if controllers == "":  # cgroup v2: one hierarchy
            limit = _v2_limit(root, relative)
        elif "cpu" in controllers.split(","):  # cgroup v1: the cpu controller's hierarchy
            limit = _v1_limit(root / controllers, relative)
        else:
            continue
        if limit is not None:
            return limit
    return None


def _v2_limit(root: Path, relative: str) -> int | None:
    # In a container the cgroup namespace makes its own cgroup the root, but /proc may still
    # name the host's path: try the named path, then the root.
    for folder in dict.fromkeys((root / relative, root)):
        fields = _read_fields(folder / "cpu.max")
        if fields is None:
            continue
        if len(fields) != 2 or fields[0] == "max":
            return None
        return _whole_cpus(fields[0], fields[1])
    return None


def _v1_limit(hierarchy: Path, relative: str) -> int | None:
    for folder in dict.fromkeys((hierarchy / relative, hierarchy)):
        quota = _read_fields(folder / "cpu.cfs_quota_us")
        period = _read_fields(folder / "cpu.cfs_period_us")
        if quota is None or period is None:
            continue
        if len(quota) != 1 or len(period) != 1 or quota[0] == "-1":
            return None
        return _whole_cpus(quota[0], period[0])
    return None


def _read_fields(path: Path) -> list[str] | None:
    try:
        return path.read_text().split()
    except OSError:
        return None


def _whole_cpus(quota: str, period: str) -> int | None:
    try:
        share = int(quota) / int(period)
    except (ValueError, ZeroDivisionError):
        return None
    return max(1, math.ceil(share)) if share > 0 else None

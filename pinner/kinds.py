"""The built-in workload kinds pinner reads: each kind's API group and where its pod spec is.

One table for everything that must agree on the kinds: the finder walks each kind's pod-spec
path, the Gatekeeper policy reads the same paths and matches the same kinds in their API groups,
and the documentation's table of where pinner looks is tested against it. No imports of pinner.
"""

from __future__ import annotations

from typing import NamedTuple


class WorkloadKind(NamedTuple):
    group: str  # the API group; "" is the core group (apiVersion: v1)
    pod_spec: tuple[str, ...]  # the path from the object to its pod spec


_TEMPLATE = ("spec", "template", "spec")
WORKLOAD_KINDS: dict[str, WorkloadKind] = {
    "Pod": WorkloadKind("", ("spec",)),
    "PodTemplate": WorkloadKind("", ("template", "spec")),
    "ReplicationController": WorkloadKind("", _TEMPLATE),
    "ReplicaSet": WorkloadKind("apps", _TEMPLATE),
    "Deployment": WorkloadKind("apps", _TEMPLATE),
    "StatefulSet": WorkloadKind("apps", _TEMPLATE),
    "DaemonSet": WorkloadKind("apps", _TEMPLATE),
    "Job": WorkloadKind("batch", _TEMPLATE),
    "CronJob": WorkloadKind("batch", ("spec", "jobTemplate", *_TEMPLATE)),
}

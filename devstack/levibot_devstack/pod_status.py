"""The status a local kubelet reports for a pod, built from what its process did.

Tooling layer, pure: container state, phase and conditions as a kubelet writes them, the restart
decision of the pod's restartPolicy, and the pod's Prometheus file_sd target.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

Obj = dict[str, Any]
# Where the kubelet publishes a pod's containerPort → loopback port mapping.
PORTS_ANNOTATION = "levibot.io/local-ports"


def now_iso(micro: bool = False) -> str:
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if micro else "%Y-%m-%dT%H:%M:%SZ"
    return datetime.now(UTC).strftime(fmt)


def build_terminated(code: int, message: str, started_at: str | None, now: str) -> Obj:
    """The `terminated` state of a container that exited with `code`."""
    return {
        "exitCode": code,
        "reason": "Completed" if code == 0 else "Error",
        "message": message,
        "startedAt": started_at,
        "finishedAt": now,
    }


def decide_restart(policy: str, code: int) -> bool:
    """Whether restartPolicy `policy` restarts a container that exited with `code`."""
    return policy == "Always" or (policy == "OnFailure" and code != 0)


def restart_delay(restarts: int) -> float:
    """CrashLoopBackOff: 2, 4, 8, 16, then 30 seconds."""
    return min(30.0, 2.0 ** min(restarts, 5))


def build_container_state(
    running: bool, started_at: str | None, terminated: Obj | None, waiting: Obj | None
) -> Obj:
    if running:
        return {"running": {"startedAt": started_at}}
    if terminated is not None:
        return {"terminated": terminated}
    return {"waiting": waiting or {"reason": "ContainerCreating"}}


def decide_phase(running: bool, terminated: Obj | None) -> str:
    if terminated is not None:
        return "Succeeded" if terminated["exitCode"] == 0 else "Failed"
    return "Running" if running else "Pending"


def build_pod_status(
    container: Obj, uid: str, *, state: Obj, phase: str, ready: bool, restarts: int, start: str
) -> Obj:
    """The pod's status: phase, conditions and its one container's status."""
    flag = "True" if ready else "False"
    conds = [
        {"type": t, "status": s}
        for t, s in (
            ("PodScheduled", "True"),
            ("Initialized", "True"),
            ("ContainersReady", flag),
            ("Ready", flag),
        )
    ]
    cstatus = {
        "name": container["name"],
        "image": container.get("image", ""),
        "imageID": "",
        "containerID": f"local://{uid}",
        "ready": ready,
        "started": "running" in state,
        "restartCount": restarts,
        "state": state,
    }
    return {
        "phase": phase,
        "conditions": conds,
        "containerStatuses": [cstatus],
        "hostIP": "127.0.0.1",
        "podIP": "127.0.0.1",
        "podIPs": [{"ip": "127.0.0.1"}],
        "startTime": start,
    }


def build_scrape_target(pod: Obj, ports: dict[int, int], ready: bool) -> Obj | None:
    """The pod's file_sd entry when it asks to be scraped and is ready, else None."""
    meta = pod["metadata"]
    annotations: dict[str, Any] = meta.get("annotations", {})
    if annotations.get("prometheus.io/scrape") != "true" or not ready:
        return None
    port = int(annotations.get("prometheus.io/port", next(iter(ports), 0)))
    labels = {
        "namespace": meta["namespace"],
        "pod": meta["name"],
        "__metrics_path__": annotations.get("prometheus.io/path", "/metrics"),
    }
    return {"targets": [f"127.0.0.1:{ports.get(port, port)}"], "labels": labels}

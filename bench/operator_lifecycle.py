"""Benchmark: the operator's lifecycle on the local control plane (kube-apiserver + kwok).

Prints, side by side with a baseline measured in the same run (the same objects created by
kubectl without the operator): apply -> trainer Job created, apply -> Ready, and N
ModelDeployments applied at once -> time until all Ready plus the operator's peak RSS.

    .venv/bin/python bench/operator_lifecycle.py [--many 200]
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from levibot_devstack.cluster import LocalCluster  # noqa: E402
from tests.operator.support.cluster import (  # noqa: E402
    OperatorProcess,
    apply_schema,
    create_db_secret,
    get_json,
    install_crd,
    load_example,
    register_version,
    wait_for,
)
from tests.support import services  # noqa: E402


def md_doc(name: str) -> dict[str, Any]:
    doc = copy.deepcopy(load_example())
    doc["metadata"]["name"] = name
    doc["spec"]["serving"]["replicas"] = 1
    return doc


def apply_all(kube: LocalCluster, ns: str, docs: list[dict[str, Any]]) -> None:
    kube.kubectl(
        "-n",
        ns,
        "apply",
        "-f",
        "-",
        input=json.dumps({"apiVersion": "v1", "kind": "List", "items": docs}),
    )


def phases(kube: LocalCluster, ns: str) -> dict[str, str]:
    items = (get_json(kube, "-n", ns, "modeldeployments") or {}).get("items", [])
    return {i["metadata"]["name"]: (i.get("status") or {}).get("phase", "") for i in items}


def register_when_jobs_appear(
    kube: LocalCluster, ns: str, dsn: str, names: set[str], stop: threading.Event
) -> None:
    """Act as the trainer for every Job: register its version once the Job exists."""
    done: set[str] = set()
    while not stop.is_set() and done != names:
        items = (get_json(kube, "-n", ns, "jobs") or {}).get("items", [])
        for job in items:
            md = job["metadata"]["labels"]["levibot.io/modeldeployment"]
            if md not in done:
                register_version(dsn, f"{ns}.{md}", job["metadata"]["labels"]["levibot.io/version"])
                done.add(md)
        time.sleep(0.2)


def baseline(kube: LocalCluster, ns: str) -> tuple[float, float]:
    """kubectl alone: create a Job (-> exists) and a 1-replica Deployment (-> Available)."""
    start = time.monotonic()
    kube.kubectl("-n", ns, "create", "job", "base", "--image=busybox", "--", "true")
    job = time.monotonic() - start
    start = time.monotonic()
    kube.kubectl("-n", ns, "create", "deployment", "base", "--image=nginx", "--replicas=1")
    kube.kubectl(
        "-n",
        ns,
        "wait",
        "--for=condition=Available",
        "deployment/base",
        "--timeout=300s",
        timeout=320,
    )
    return job, time.monotonic() - start


def single(kube: LocalCluster, ns: str, dsn: str) -> tuple[float, float]:
    stop = threading.Event()
    start = time.monotonic()
    apply_all(kube, ns, [md_doc("solo")])
    wait_for(lambda: get_json(kube, "-n", ns, "job", "solo-train-v1-1"), timeout=120, what="job")
    job = time.monotonic() - start
    register_version(dsn, f"{ns}.solo", "v1")
    wait_for(lambda: phases(kube, ns).get("solo") == "Ready", timeout=600, what="ready")
    stop.set()
    return job, time.monotonic() - start


def many(
    kube: LocalCluster, ns: str, dsn: str, count: int, op: OperatorProcess
) -> tuple[float, float]:
    names = {f"md-{i:03d}" for i in range(count)}
    stop, peak = threading.Event(), [0]
    proc = psutil.Process(op.pid())

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            time.sleep(0.5)

    threading.Thread(target=sample, daemon=True).start()
    trainer = threading.Thread(
        target=register_when_jobs_appear, args=(kube, ns, dsn, names, stop), daemon=True
    )
    trainer.start()
    start = time.monotonic()
    apply_all(kube, ns, [md_doc(n) for n in sorted(names)])
    wait_for(
        lambda: sum(p == "Ready" for p in phases(kube, ns).values()) == count,
        timeout=1800,
        what="all ready",
    )
    took = time.monotonic() - start
    stop.set()
    return took, peak[0] / 2**20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--many", type=int, default=200)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="levibot-bench-"))
    kube = LocalCluster(workdir / "kube").up()
    pg_servers = services.postgres_server()  # keep the generator: its finally stops the server
    pg = next(pg_servers)
    op: OperatorProcess | None = None
    try:
        dsn = pg.dsn_for("postgres")
        apply_schema(dsn)
        install_crd(kube)
        for ns in ("base", "one", "many"):
            kube.kubectl("create", "namespace", ns)
            create_db_secret(kube, ns, dsn)
        base_job, base_ready = baseline(kube, "base")
        op = OperatorProcess(
            kube, workdir / "operator.log", LEVIBOT_OPERATOR_RESYNC_SECONDS="30"
        ).start()
        job, ready = single(kube, "one", dsn)
        total, rss = many(kube, "many", dsn, args.many, op)
        print(f"{'measure':44} {'operator':>10} {'baseline':>10}")
        print(f"{'apply -> trainer Job exists (s)':44} {job:10.2f} {base_job:10.2f}")
        print(f"{'apply -> Ready (s) [baseline: Deployment]':44} {ready:10.2f} {base_ready:10.2f}")
        print(f"{f'{args.many} MDs at once -> all Ready (s)':44} {total:10.2f} {'':>10}")
        print(f"{'operator peak RSS (MiB)':44} {rss:10.1f} {'':>10}")
    finally:
        if op is not None:
            op.stop()
        kube.down()
        pg_servers.close()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

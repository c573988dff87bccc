"""A local kubelet: runs the pods scheduled to one node as host processes.

Tooling layer. kwok fakes pods; the trainer Job and the predictors must really
run, so this harness registers a node (`levibot-local` by default, not managed
by kwok) and, for every pod the scheduler places on it, executes the pod's
exact container command and args with the pod's environment (Secret and
ConfigMap references resolved), then reports the process's state back into the
pod's status, as a kubelet would. What differs from a container, and only this:

- the first container of the pod runs (init and sidecar containers are refused);
  `python` resolves to this repository's virtualenv (first on PATH);
- every volume (ConfigMap, Secret, emptyDir) and the termination-message path
  is a directory under the kubelet's work dir; env values and args that name a
  mount path are rewritten to it; ConfigMap volumes follow their ConfigMap
  (the kill-switch relies on that), as a kubelet's do;
- every containerPort gets a free loopback port; env values and args equal to
  the port number are rewritten, and `0.0.0.0` becomes `127.0.0.1`; the mapping
  is published in the pod annotation `levibot.io/local-ports`;
- readiness is the readinessProbe's httpGet on the mapped port (no probe:
  ready when running); liveness probes are not run; of lifecycle hooks only the
  preStop `sleep` action runs (before SIGTERM, as a kubelet does);
- the service-account token volume that the API server adds to a pod holds a
  real token (TokenRequest, bound to the pod) and, since a host process cannot
  read /var/run/secrets, a kubeconfig using it, named by `KUBECONFIG`: the
  process authenticates as its ServiceAccount, so RBAC applies as in a cluster;
- the process runs as the kubelet's user (securityContext is not enforced).

Pods with a `prometheus.io/scrape: "true"` annotation are written to a
Prometheus file_sd file with `namespace` and `pod` labels.

    python -m levibot_devstack.kubelet --kubeconfig .run/cluster/kubeconfig --workdir .run/kubelet
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from pathlib import Path

from levibot_devstack.kubeapi import ApiError, KubeApi, Obj
from levibot_devstack.pod import LocalPod
from levibot_devstack.pod_env import ConfigError
from levibot_devstack.pod_status import now_iso

log = logging.getLogger("localkubelet")
NODE_ANNOTATION = "levibot.io/local-kubelet"


def build_node(name: str) -> Obj:
    """The node object this kubelet registers (not annotated for kwok)."""
    capacity = {"cpu": "16", "memory": "64Gi", "pods": "200"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {NODE_ANNOTATION: "true"},
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "levibot.io/local": "true",
            },
        },
        "status": {"capacity": capacity, "allocatable": capacity},
    }


def node_status(now: str) -> Obj:
    ready = {
        "type": "Ready",
        "status": "True",
        "reason": "KubeletReady",
        "message": "levibot local kubelet is posting ready status",
        "lastHeartbeatTime": now,
        "lastTransitionTime": now,
    }
    others = [
        {
            "type": t,
            "status": "False",
            "reason": f"KubeletHas{r}",
            "lastHeartbeatTime": now,
            "lastTransitionTime": now,
        }
        for t, r in (
            ("MemoryPressure", "SufficientMemory"),
            ("DiskPressure", "NoDiskPressure"),
            ("PIDPressure", "SufficientPID"),
        )
    ]
    return {
        "status": {
            "conditions": [ready, *others],
            "addresses": [
                {"type": "InternalIP", "address": "127.0.0.1"},
                {"type": "Hostname", "address": "localhost"},
            ],
        }
    }


class LocalKubelet:
    """Registers the node, keeps it alive, and runs the pods bound to it."""

    def __init__(self, api: KubeApi, node: str, workdir: Path, sd_file: Path | None) -> None:
        self.api, self.node, self.workdir, self.sd_file = api, node, workdir, sd_file
        self.pods: dict[str, LocalPod] = {}
        self.terminations: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        await self.register()
        tasks = [self.heartbeat(), self.watch_pods(), self.supervise(), self.sync_config()]
        try:
            await asyncio.gather(*tasks)
        finally:
            await asyncio.gather(*(p.stop(grace=5) for p in self.pods.values()))

    async def register(self) -> None:
        with contextlib.suppress(ApiError):
            await self.api.create("/api/v1/nodes", build_node(self.node))
        await self.api.merge_patch(f"/api/v1/nodes/{self.node}/status", node_status(now_iso()))

    async def heartbeat(self) -> None:
        """Renews the node Lease every 10 s and the Ready condition every 30 s."""
        path = f"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{self.node}"
        lease: Obj = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": self.node, "namespace": "kube-node-lease"},
            "spec": {"holderIdentity": self.node, "leaseDurationSeconds": 40},
        }
        for tick in range(sys.maxsize):
            lease["spec"]["renewTime"] = now_iso(micro=True)
            try:
                await self.api.merge_patch(path, lease)
            except ApiError:
                await self.api.create(path.rsplit("/", 1)[0], lease)
            if tick % 3 == 0:
                await self.api.merge_patch(
                    f"/api/v1/nodes/{self.node}/status", node_status(now_iso())
                )
            await asyncio.sleep(10)

    async def watch_pods(self) -> None:
        params = {"fieldSelector": f"spec.nodeName={self.node}"}
        while True:
            listing = await self.api.get("/api/v1/pods", params)
            for pod in listing["items"]:
                await self.on_pod(pod)
            params_w = {**params, "resourceVersion": listing["metadata"]["resourceVersion"]}
            with contextlib.suppress(asyncio.TimeoutError, ApiError, OSError):
                async for event in self.api.watch("/api/v1/pods", params_w):
                    if event["type"] == "DELETED":
                        await self.forget(event["object"])
                    elif event["type"] in ("ADDED", "MODIFIED"):
                        await self.on_pod(event["object"])

    async def on_pod(self, pod: Obj) -> None:
        uid = pod["metadata"]["uid"]
        local = self.pods.get(uid)
        if local is None:
            if pod["status"].get("phase") in ("Succeeded", "Failed"):
                return
            local = self.pods[uid] = LocalPod(self.api, pod, self.workdir / "pods" / uid)
        local.pod = pod
        if pod["metadata"].get("deletionTimestamp") and not local.terminating:
            local.terminating = True  # preStop and the grace period run beside the other pods
            task = asyncio.create_task(self.terminate(local))
            self.terminations.add(task)
            task.add_done_callback(self.terminations.discard)

    async def terminate(self, local: LocalPod) -> None:
        await local.terminate_and_remove()
        self.pods.pop(local.uid, None)
        self.write_sd()

    async def forget(self, pod: Obj) -> None:
        local = self.pods.pop(pod["metadata"]["uid"], None)
        if local is not None:
            await local.stop(grace=5)
            self.write_sd()

    async def supervise(self) -> None:
        """Starts, restarts, probes and reports every pod, twice a second."""
        while True:
            for local in list(self.pods.values()):
                try:
                    await local.step()
                except ApiError as err:
                    if err.status == 404:
                        await local.stop(grace=5)
                        self.pods.pop(local.uid, None)
                    else:
                        log.warning("pod %s: %s", local.name, err)
                except Exception:  # one broken pod must not stop the others
                    log.exception("pod %s", local.name)
            self.write_sd()
            await asyncio.sleep(0.5)

    async def sync_config(self) -> None:
        """Refreshes ConfigMap and Secret volumes every second (kubelets do it too)."""
        while True:
            for local in list(self.pods.values()):
                with contextlib.suppress(ApiError, ConfigError):  # step() reports these
                    await local.env.refresh_volumes()
            await asyncio.sleep(1)

    def write_sd(self) -> None:
        if self.sd_file is None:
            return
        targets = [t for p in self.pods.values() if (t := p.scrape_target()) is not None]
        text = json.dumps(targets, indent=1, sort_keys=True)
        if not self.sd_file.exists() or self.sd_file.read_text() != text:
            tmp = self.sd_file.with_suffix(".tmp")
            tmp.write_text(text)
            tmp.replace(self.sd_file)  # atomic: Prometheus never reads half a file


async def amain(args: argparse.Namespace) -> None:
    workdir = Path(args.workdir).absolute()
    sd = Path(args.prometheus_sd_file) if args.prometheus_sd_file else None
    # SIGTERM (how the stack stops us) must run run()'s cleanup: the pods are in sessions of
    # their own, so without it they would outlive their kubelet.
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    async with KubeApi(Path(args.kubeconfig)) as api:
        with contextlib.suppress(asyncio.CancelledError):
            await LocalKubelet(api, args.node, workdir, sd).run()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the pods bound to one node as processes.")
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--node", default="levibot-local")
    parser.add_argument("--prometheus-sd-file", default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(amain(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())

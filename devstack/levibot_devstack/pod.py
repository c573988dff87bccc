"""One pod of the local kubelet: resolve, run, probe, report, stop.

Tooling layer; see kubelet.py for what differs from a container.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from levibot_devstack.kubeapi import ApiError, KubeApi, Obj

VENV_BIN = Path(sys.executable).parent
PORTS_ANNOTATION = "levibot.io/local-ports"


def now_iso(micro: bool = False) -> str:
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if micro else "%Y-%m-%dT%H:%M:%SZ"
    return datetime.now(UTC).strftime(fmt)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_token_kubeconfig(server: str, ca_file: str, token: str) -> str:
    """A kubeconfig that authenticates with a service-account token."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": "pod",
            "clusters": [
                {"name": "local", "cluster": {"server": server, "certificate-authority": ca_file}}
            ],
            "users": [{"name": "pod", "user": {"token": token}}],
            "contexts": [{"name": "pod", "context": {"cluster": "local", "user": "pod"}}],
        }
    )


def _write_files(local: Path, files: dict[str, str]) -> None:
    """Writes each file atomically, and only when its content changed."""
    for rel, content in files.items():
        target = local / rel
        if target.exists() and target.read_text() == content:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(content)
        tmp.replace(target)


class ConfigError(Exception):
    """The pod cannot start yet (a missing Secret, an unsupported feature)."""


def rewrite(value: str, mounts: dict[str, Path], ports: dict[int, int]) -> str:
    """Maps a container-side value (path, port, bind address) to its local equivalent.

    >>> rewrite("--port=8080", {}, {8080: 41000})
    '--port=41000'
    """
    if value == "0.0.0.0":
        return "127.0.0.1"
    if value.isdigit() and int(value) in ports:
        return str(ports[int(value)])
    for mount, local in sorted(mounts.items(), key=lambda kv: -len(kv[0])):
        root = mount.rstrip("/")
        if value == mount or value.startswith(root + "/"):
            return str(local) + value[len(root) :]
    flag, eq, rest = value.partition("=")
    if eq and flag.startswith("-"):  # --flag=/path, --port=8080
        return f"{flag}={rewrite(rest, mounts, ports)}"
    return value


class LocalPod:
    """Runs a pod's first container as a process and mirrors it into pod status."""

    def __init__(self, api: KubeApi, pod: Obj, workdir: Path) -> None:
        self.api, self.pod, self.workdir = api, pod, workdir
        self.proc: asyncio.subprocess.Process | None = None
        self.ports: dict[int, int] = {}
        self.mounts: dict[str, Path] = {}
        self.restarts = 0
        self.ready = False
        self.started_at: str | None = None
        self.terminated: Obj | None = None
        self.waiting: Obj | None = None
        self.next_start = 0.0
        self.last_status: str = ""
        self.token: str | None = None
        self.kubeconfig: Path | None = None
        self.terminating = False

    @property
    def uid(self) -> str:
        return str(self.pod["metadata"]["uid"])

    @property
    def name(self) -> str:
        return f"{self.pod['metadata']['namespace']}/{self.pod['metadata']['name']}"

    @property
    def container(self) -> Obj:
        return dict(self.pod["spec"]["containers"][0])

    # -- resolving ---------------------------------------------------------
    async def _read(self, kind: str, name: str) -> dict[str, str]:
        ns = self.pod["metadata"]["namespace"]
        try:
            obj = await self.api.get(f"/api/v1/namespaces/{ns}/{kind}/{name}")
        except ApiError as err:
            raise ConfigError(f"{kind[:-1]} {name!r} not found") from err
        if kind == "secrets":
            return {k: base64.b64decode(v).decode() for k, v in obj.get("data", {}).items()}
        return dict(obj.get("data", {}))

    async def _env_value(self, item: Obj) -> str | None:
        src = item.get("valueFrom")
        if src is None:
            return str(item.get("value", ""))
        for kind, key in (("secrets", "secretKeyRef"), ("configmaps", "configMapKeyRef")):
            if key in src:
                ref = src[key]
                try:
                    data = await self._read(kind, ref["name"])
                except ConfigError:
                    if ref.get("optional"):
                        return None
                    raise
                if ref["key"] not in data and not ref.get("optional"):
                    raise ConfigError(f"key {ref['key']!r} not in {kind[:-1]} {ref['name']!r}")
                return data.get(ref["key"])
        if "fieldRef" in src:
            return self._field(src["fieldRef"]["fieldPath"])
        return None  # resourceFieldRef: not meaningful for a host process

    def _field(self, path: str) -> str:
        meta = self.pod["metadata"]
        simple = {
            "metadata.name": meta["name"],
            "metadata.namespace": meta["namespace"],
            "metadata.uid": meta["uid"],
            "spec.nodeName": self.pod["spec"].get("nodeName", ""),
            "status.podIP": "127.0.0.1",
            "status.hostIP": "127.0.0.1",
            "spec.serviceAccountName": self.pod["spec"].get("serviceAccountName", ""),
        }
        if path in simple:
            return str(simple[path])
        for kind in ("labels", "annotations"):
            prefix = f"metadata.{kind}['"
            if path.startswith(prefix):
                return str(meta.get(kind, {}).get(path[len(prefix) : -2], ""))
        raise ConfigError(f"unsupported fieldRef {path!r}")

    async def resolve_env(self) -> dict[str, str]:
        env: dict[str, str] = {}
        for src in self.container.get("envFrom", []):
            kind, ref = (
                ("secrets", src["secretRef"])
                if "secretRef" in src
                else ("configmaps", src["configMapRef"])
            )
            data = await self._read(kind, ref["name"])
            env.update({src.get("prefix", "") + k: v for k, v in data.items()})
        for item in self.container.get("env", []):
            value = await self._env_value(item)
            if value is not None:
                env[item["name"]] = rewrite(value, self.mounts, self.ports)
        return env

    async def refresh_volumes(self) -> None:
        """Writes ConfigMap, Secret, downward-API and token volumes; makes emptyDirs."""
        by_name = {v["name"]: v for v in self.pod["spec"].get("volumes", [])}
        for mount in self.container.get("volumeMounts", []):
            volume = by_name.get(mount["name"], {})
            local = self.workdir / "volumes" / mount["name"]
            local.mkdir(parents=True, exist_ok=True)
            self.mounts[mount["mountPath"]] = local / mount.get("subPath", "")
            sources = volume.get("projected", {}).get("sources", [volume])
            for source in sources:
                _write_files(local, await self._source_files(source, local))

    async def _source_files(self, source: Obj, local: Path) -> dict[str, str]:
        if "configMap" in source:
            return await self._keyed_files("configmaps", source["configMap"], "name")
        if "secret" in source:
            ref = source["secret"]
            return await self._keyed_files(
                "secrets", ref, "secretName" if "secretName" in ref else "name"
            )
        if "downwardAPI" in source:
            items = source["downwardAPI"].get("items", [])
            return {
                i["path"]: self._field(i["fieldRef"]["fieldPath"]) for i in items if "fieldRef" in i
            }
        if "serviceAccountToken" in source:
            return await self._token_files(source["serviceAccountToken"], local)
        return {}

    async def _keyed_files(self, kind: str, source: Obj, name_key: str) -> dict[str, str]:
        try:
            data = await self._read(kind, source[name_key])
        except ConfigError:
            if source.get("optional"):
                return {}
            raise
        items = source.get("items") or [{"key": k, "path": k} for k in data]
        return {i["path"]: data[i["key"]] for i in items if i["key"] in data}

    async def _token_files(self, source: Obj, local: Path) -> dict[str, str]:
        """A service-account token (TokenRequest, like a kubelet) and a kubeconfig using it.

        A host process cannot read /var/run/secrets/..., so the pod gets KUBECONFIG pointing
        at a kubeconfig built from the same token: it authenticates as its ServiceAccount."""
        if self.token is None:
            meta = self.pod["metadata"]
            sa = self.pod["spec"].get("serviceAccountName", "default")
            body = {
                "apiVersion": "authentication.k8s.io/v1",
                "kind": "TokenRequest",
                "spec": {
                    "expirationSeconds": 86400,
                    "boundObjectRef": {
                        "apiVersion": "v1",
                        "kind": "Pod",
                        "name": meta["name"],
                        "uid": meta["uid"],
                    },
                },
            }
            path = f"/api/v1/namespaces/{meta['namespace']}/serviceaccounts/{sa}/token"
            self.token = str((await self.api.create(path, body))["status"]["token"])
        self.kubeconfig = local / "kubeconfig"
        config = build_token_kubeconfig(self.api.server, self.api.ca_file, self.token)
        return {source.get("path", "token"): self.token, "kubeconfig": config}

    # -- running -----------------------------------------------------------
    async def start(self) -> None:
        container = self.container
        for extra in ("initContainers",):
            if self.pod["spec"].get(extra):
                raise ConfigError(f"{extra} are not supported by the local kubelet")
        if not self.ports:
            self.ports = {p["containerPort"]: free_port() for p in container.get("ports", [])}
            await self._publish_ports()
        await self.refresh_volumes()
        term = container.get("terminationMessagePath", "/dev/termination-log")
        self.mounts[term] = self.workdir / "termination-log"
        self.mounts[term].unlink(missing_ok=True)
        env = await self.resolve_env()
        if self.kubeconfig is not None:
            env.setdefault("KUBECONFIG", str(self.kubeconfig))
        argv = [
            rewrite(a, self.mounts, self.ports)
            for a in [*container.get("command", []), *container.get("args", [])]
        ]
        if not argv:
            raise ConfigError("the container has no command: the local kubelet cannot run an image")
        base = {
            "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(self.workdir),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
        }
        log = (self.workdir / "container.log").open("ab")
        try:
            self.proc = await asyncio.create_subprocess_exec(
                *argv,
                env={**base, **env},
                cwd=self.workdir,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                stdin=asyncio.subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            log.close()
        self.started_at, self.terminated, self.waiting, self.ready = now_iso(), None, None, False

    async def _publish_ports(self) -> None:
        ns, name = self.pod["metadata"]["namespace"], self.pod["metadata"]["name"]
        value = json.dumps({str(k): v for k, v in self.ports.items()})
        patch = {"metadata": {"annotations": {PORTS_ANNOTATION: value}}}
        await self.api.merge_patch(f"/api/v1/namespaces/{ns}/pods/{name}", patch)

    async def step(self) -> None:
        """One supervision tick: start or restart as the policy says, probe, report."""
        if self.terminating:  # deleted: terminate_and_remove owns the process now
            return
        if self.proc is None and self.terminated is None and time.monotonic() >= self.next_start:
            self.workdir.mkdir(parents=True, exist_ok=True)
            try:
                await self.start()
            except ConfigError as err:
                self.waiting = {"reason": "CreateContainerConfigError", "message": str(err)}
                self.next_start = time.monotonic() + 2
            except OSError as err:  # e.g. the command does not exist on this host
                self.waiting = {"reason": "RunContainerError", "message": str(err)}
                self.next_start = time.monotonic() + 5
        elif self.proc is not None and self.proc.returncode is not None:
            self._on_exit(self.proc.returncode)
        if self.proc is not None and self.proc.returncode is None:
            self.ready = await self.probe()
        await self.report()

    def _on_exit(self, code: int) -> None:
        message = ""
        term_file = self.workdir / "termination-log"
        if term_file.exists():
            message = term_file.read_text(errors="replace")[-4096:]
        self.terminated = {
            "exitCode": code,
            "reason": "Completed" if code == 0 else "Error",
            "message": message,
            "startedAt": self.started_at,
            "finishedAt": now_iso(),
        }
        self.proc, self.ready = None, False
        policy = self.pod["spec"].get("restartPolicy", "Always")
        if policy == "Always" or (policy == "OnFailure" and code != 0):
            self.restarts += 1
            self.next_start = time.monotonic() + min(30.0, 2.0 ** min(self.restarts, 5))
            self.waiting = {"reason": "CrashLoopBackOff", "message": f"exit code {code}"}
            self.terminated = None

    async def probe(self) -> bool:
        probe = self.container.get("readinessProbe", {}).get("httpGet")
        if probe is None:
            return True
        port = probe["port"]
        if isinstance(port, str):  # named port
            port = next(
                p["containerPort"] for p in self.container["ports"] if p.get("name") == port
            )
        url = f"http://127.0.0.1:{self.ports.get(port, port)}{probe.get('path', '/')}"
        try:
            timeout = aiohttp.ClientTimeout(total=1)
            async with aiohttp.ClientSession(timeout=timeout) as s, s.get(url) as resp:
                return 200 <= resp.status < 400
        except (aiohttp.ClientError, TimeoutError):
            return False

    def status(self) -> Obj:
        c = self.container
        running = self.proc is not None and self.proc.returncode is None
        if running:
            state: Obj = {"running": {"startedAt": self.started_at}}
        elif self.terminated is not None:
            state = {"terminated": self.terminated}
        else:
            state = {"waiting": self.waiting or {"reason": "ContainerCreating"}}
        phase = "Running" if running else "Pending"
        if self.terminated is not None:
            phase = "Succeeded" if self.terminated["exitCode"] == 0 else "Failed"
        ready = "True" if running and self.ready else "False"
        conds = [
            {"type": t, "status": s}
            for t, s in (
                ("PodScheduled", "True"),
                ("Initialized", "True"),
                ("ContainersReady", ready),
                ("Ready", ready),
            )
        ]
        cstatus = {
            "name": c["name"],
            "image": c.get("image", ""),
            "imageID": "",
            "containerID": f"local://{self.uid}",
            "ready": ready == "True",
            "started": running,
            "restartCount": self.restarts,
            "state": state,
        }
        return {
            "phase": phase,
            "conditions": conds,
            "containerStatuses": [cstatus],
            "hostIP": "127.0.0.1",
            "podIP": "127.0.0.1",
            "podIPs": [{"ip": "127.0.0.1"}],
            "startTime": self.started_at or now_iso(),
        }

    async def report(self) -> None:
        status = self.status()
        key = json.dumps(status, sort_keys=True)
        if key == self.last_status:
            return
        ns, name = self.pod["metadata"]["namespace"], self.pod["metadata"]["name"]
        stamped = json.loads(key)
        for cond in stamped["conditions"]:
            cond["lastTransitionTime"] = now_iso()
        await self.api.merge_patch(
            f"/api/v1/namespaces/{ns}/pods/{name}/status", {"status": stamped}
        )
        self.last_status = key

    # -- stopping ----------------------------------------------------------
    async def stop(self, grace: float) -> None:
        proc = self.proc
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), grace)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()

    async def terminate_and_remove(self) -> None:
        """What a kubelet does for a deleted pod: stop it, then remove the object."""
        grace = min(float(self.pod["spec"].get("terminationGracePeriodSeconds", 30)), 10.0)
        lifecycle = self.pod["spec"]["containers"][0].get("lifecycle") or {}
        pause = float(((lifecycle.get("preStop") or {}).get("sleep") or {}).get("seconds", 0))
        if pause > 0 and self.proc is not None:
            await asyncio.sleep(min(pause, grace))  # endpoints drop the pod meanwhile
        await self.stop(max(grace - pause, 1.0))
        ns, name = self.pod["metadata"]["namespace"], self.pod["metadata"]["name"]
        body = {"gracePeriodSeconds": 0, "preconditions": {"uid": self.uid}}
        with contextlib.suppress(ApiError):
            await self.api.delete(f"/api/v1/namespaces/{ns}/pods/{name}", body)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def scrape_target(self) -> Obj | None:
        meta = self.pod["metadata"]
        annotations: dict[str, Any] = meta.get("annotations", {})
        if annotations.get("prometheus.io/scrape") != "true" or not self.ready:
            return None
        port = int(annotations.get("prometheus.io/port", next(iter(self.ports), 0)))
        labels = {
            "namespace": meta["namespace"],
            "pod": meta["name"],
            "__metrics_path__": annotations.get("prometheus.io/path", "/metrics"),
        }
        return {"targets": [f"127.0.0.1:{self.ports.get(port, port)}"], "labels": labels}

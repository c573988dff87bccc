"""One pod of the local kubelet: run its first container as a process, probe, report, stop.

Tooling layer; see kubelet.py for what differs from a container. What the container sees is
resolved by pod_env.py; the status it reports is built by pod_status.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path

import aiohttp

from levibot_devstack.kubeapi import ApiError, KubeApi, Obj
from levibot_devstack.net import free_port
from levibot_devstack.pod_env import ConfigError, PodEnvironment, rewrite
from levibot_devstack.pod_status import (
    PORTS_ANNOTATION,
    build_container_state,
    build_pod_status,
    build_scrape_target,
    build_terminated,
    decide_phase,
    decide_restart,
    now_iso,
    restart_delay,
)

VENV_BIN = Path(sys.executable).parent


class LocalPod:
    """Runs a pod's first container as a process and mirrors it into pod status."""

    def __init__(self, api: KubeApi, pod: Obj, workdir: Path) -> None:
        self.api, self.workdir = api, workdir
        self.env = PodEnvironment(api, pod, workdir)
        self.proc: asyncio.subprocess.Process | None = None
        self.restarts = 0
        self.ready = False
        self.started_at: str | None = None
        self.terminated: Obj | None = None
        self.waiting: Obj | None = None
        self.next_start = 0.0
        self.last_status: str = ""
        self.terminating = False

    @property
    def pod(self) -> Obj:
        return self.env.pod

    @pod.setter
    def pod(self, pod: Obj) -> None:
        self.env.pod = pod

    @property
    def uid(self) -> str:
        return str(self.pod["metadata"]["uid"])

    @property
    def name(self) -> str:
        return f"{self.pod['metadata']['namespace']}/{self.pod['metadata']['name']}"

    @property
    def container(self) -> Obj:
        return self.env.container

    # -- running -----------------------------------------------------------
    async def start(self) -> None:
        container, env = self.container, self.env
        for extra in ("initContainers",):
            if self.pod["spec"].get(extra):
                raise ConfigError(f"{extra} are not supported by the local kubelet")
        if not env.ports:
            env.ports = {p["containerPort"]: free_port() for p in container.get("ports", [])}
            await self._publish_ports()
        await env.refresh_volumes()
        term = container.get("terminationMessagePath", "/dev/termination-log")
        env.mounts[term] = self.workdir / "termination-log"
        env.mounts[term].unlink(missing_ok=True)
        values = await env.resolve_env()
        if env.kubeconfig is not None:
            values.setdefault("KUBECONFIG", str(env.kubeconfig))
        argv = [
            rewrite(a, env.mounts, env.ports)
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
                env={**base, **values},
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
        value = json.dumps({str(k): v for k, v in self.env.ports.items()})
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
        self.terminated = build_terminated(code, message, self.started_at, now_iso())
        self.proc, self.ready = None, False
        if decide_restart(self.pod["spec"].get("restartPolicy", "Always"), code):
            self.restarts += 1
            self.next_start = time.monotonic() + restart_delay(self.restarts)
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
        url = f"http://127.0.0.1:{self.env.ports.get(port, port)}{probe.get('path', '/')}"
        try:
            timeout = aiohttp.ClientTimeout(total=1)
            async with aiohttp.ClientSession(timeout=timeout) as s, s.get(url) as resp:
                return 200 <= resp.status < 400
        except (aiohttp.ClientError, TimeoutError):
            return False

    def status(self) -> Obj:
        running = self.proc is not None and self.proc.returncode is None
        state = build_container_state(running, self.started_at, self.terminated, self.waiting)
        return build_pod_status(
            self.container,
            self.uid,
            state=state,
            phase=decide_phase(running, self.terminated),
            ready=running and self.ready,
            restarts=self.restarts,
            start=self.started_at or now_iso(),
        )

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
        return build_scrape_target(self.pod, self.env.ports, self.ready)

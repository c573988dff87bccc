"""Traffic for a ModelDeployment's predictors on the local kubelet, as a Service would send it.

Tooling layer (demo and e2e). With the `replicas` traffic provider one Service
selects the predictor pods of every version; kube-proxy picks a ready endpoint
at random, so each version's share is its share of ready pods. This generator
does the same against the local kubelet's pods (their loopback ports are in
the `levibot.io/local-ports` annotation): it reads the Service's selector,
keeps the ready pods fresh, and sends `POST /v1/predict/{symbol}` at a fixed
rate, counting answers per version and track. Bounded by rate and duration.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from levibot_devstack.kubeapi import ApiError, KubeApi, Obj

PORTS_ANNOTATION = "levibot.io/local-ports"


@dataclass(frozen=True)
class Endpoint:
    """One ready predictor pod."""

    pod: str
    version: str
    url: str


@dataclass
class TrafficStats:
    """What the generator saw, per (version, track) and per outcome."""

    answers: Counter[tuple[str, str]] = field(default_factory=Counter)
    fallbacks: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)

    def add(self, other: TrafficStats) -> None:
        self.answers.update(other.answers)
        self.fallbacks.update(other.fallbacks)
        self.errors.update(other.errors)

    def share(self, version: str) -> float:
        total = sum(self.answers.values())
        mine = sum(n for (v, _), n in self.answers.items() if v == version)
        return mine / total if total else 0.0


def _ready(pod: Obj) -> bool:
    conds = pod.get("status", {}).get("conditions", [])
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conds)


def build_endpoints(pods: list[Obj], port: int) -> list[Endpoint]:
    """Ready, not-terminating pods with a local port for `port`."""
    found = []
    for pod in pods:
        meta = pod["metadata"]
        ports = json.loads(meta.get("annotations", {}).get(PORTS_ANNOTATION, "{}"))
        if meta.get("deletionTimestamp") or not _ready(pod) or str(port) not in ports:
            continue
        version = meta.get("labels", {}).get("levibot.io/version", "?")
        url = f"http://127.0.0.1:{ports[str(port)]}"
        found.append(Endpoint(meta["name"], version, url))
    return found


class ServiceTraffic:
    """Sends predictions to a Service's ready pods, uniformly at random."""

    def __init__(self, api: KubeApi, namespace: str, service: str, symbols: list[str]) -> None:
        self.api, self.namespace, self.service, self.symbols = api, namespace, service, symbols
        self.endpoints: list[Endpoint] = []
        self.stats = TrafficStats()
        self._inflight: set[asyncio.Task[None]] = set()

    async def refresh(self) -> None:
        svc = await self.api.get(f"/api/v1/namespaces/{self.namespace}/services/{self.service}")
        selector = ",".join(f"{k}={v}" for k, v in svc["spec"]["selector"].items())
        port = svc["spec"]["ports"][0].get("targetPort", svc["spec"]["ports"][0]["port"])
        pods = await self.api.get(
            f"/api/v1/namespaces/{self.namespace}/pods", {"labelSelector": selector}
        )
        container_port = _resolve_port(pods["items"], port)
        self.endpoints = build_endpoints(pods["items"], container_port)

    async def run(self, rate: float, seconds: float) -> TrafficStats:
        """Sends `rate` requests per second for `seconds` (refreshing endpoints each second)."""
        deadline = time.monotonic() + seconds
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
            next_refresh = 0.0
            while time.monotonic() < deadline:
                if time.monotonic() >= next_refresh:
                    with contextlib.suppress(ApiError, KeyError, IndexError):
                        await self.refresh()
                    next_refresh = time.monotonic() + 1
                if self.endpoints:
                    task = asyncio.create_task(self._one(session, random.choice(self.endpoints)))
                    self._inflight.add(task)
                    task.add_done_callback(self._inflight.discard)
                await asyncio.sleep(1 / rate)
            await asyncio.gather(*self._inflight)  # let the last answers land
        return self.stats

    async def _one(self, session: aiohttp.ClientSession, endpoint: Endpoint) -> None:
        symbol = random.choice(self.symbols)
        try:
            async with session.post(f"{endpoint.url}/v1/predict/{symbol}") as resp:
                body = await resp.json()
        except (aiohttp.ClientError, TimeoutError, ValueError) as err:
            self.stats.errors[type(err).__name__] += 1
            return
        if resp.status != 200:
            self.stats.errors[f"http_{resp.status}"] += 1
            return
        self.stats.answers[(body["version"], body["track"])] += 1
        if body.get("fallback"):
            self.stats.fallbacks[str(body.get("reason"))] += 1


def _resolve_port(pods: list[Obj], port: int | str) -> int:
    """A Service targetPort may be a name: resolve it on the pods' containers."""
    if isinstance(port, int) or str(port).isdigit():
        return int(port)
    for pod in pods:
        for c in pod["spec"]["containers"]:
            for p in c.get("ports", []):
                if p.get("name") == port:
                    return int(p["containerPort"])
    raise KeyError(f"no container port named {port!r}")


class BackgroundTraffic:
    """A steady stream through a Service until stopped (a thread with its own event loop):
    what keeps outcomes resolving and drift windows filling while the demo and e2e tests watch.
    ``take_recent`` returns what was answered since its last call; ``total`` everything."""

    def __init__(
        self, kubeconfig: Path, namespace: str, service: str, symbols: list[str], rate: float
    ) -> None:
        self.kubeconfig, self.namespace, self.service = kubeconfig, namespace, service
        self.symbols, self.rate = symbols, rate
        self.total, self._recent = TrafficStats(), TrafficStats()
        self._lock, self._stop = threading.Lock(), threading.Event()
        self._thread = threading.Thread(target=self._main, name=f"traffic-{service}", daemon=True)

    def start(self) -> BackgroundTraffic:
        self._thread.start()
        return self

    def stop(self) -> TrafficStats:
        self._stop.set()
        self._thread.join(timeout=10)
        return self.total

    def take_recent(self) -> TrafficStats:
        with self._lock:
            recent, self._recent = self._recent, TrafficStats()
        return recent

    def _main(self) -> None:
        asyncio.run(self._loop())

    async def _loop(self) -> None:
        async with KubeApi(self.kubeconfig) as api:
            while not self._stop.is_set():
                traffic = ServiceTraffic(api, self.namespace, self.service, self.symbols)
                with contextlib.suppress(ApiError, aiohttp.ClientError, OSError):
                    stats = await traffic.run(rate=self.rate, seconds=2)
                    with self._lock:
                        self.total.add(stats)
                        self._recent.add(stats)

"""The whole of levibot on one machine: what `make demo` and the e2e tests run.

Tooling layer. Starts, on loopback and without Docker:
- the local control plane whose only node is the local kubelet (pods really run);
- PostgreSQL 15 with seeded market history and a live tick feed (market.py);
- Prometheus scraping every predictor pod (file_sd from the local kubelet) and
  evaluating the chart's own alert rules; Alertmanager posting to the operator (monitoring.py);
- levibot itself, installed with `helm install` from charts/levibot (release.py): the
  operator runs as a pod of the local kubelet, with the chart's ServiceAccount
  and RBAC, leader election and webhook.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from levibot_devstack import market, release
from levibot_devstack.cluster import LocalCluster
from levibot_devstack.kubeapi import KubeApi
from levibot_devstack.monitoring import (
    NULL_ALERTMANAGER,
    build_alertmanager_config,
    build_prometheus_config,
)
from levibot_devstack.processes import Process, processes_mentioning, wait_until
from levibot_devstack.release import SYSTEM_NS, start_kubelet
from levibot_devstack.services import AlertmanagerServer, PostgresServer, PrometheusServer
from levibot_devstack.tools import ROOT
from levibot_devstack.traffic import BackgroundTraffic, ServiceTraffic, TrafficStats


@dataclass
class StackConfig:
    """What to start; the defaults are the demo's."""

    workdir: Path
    symbols: tuple[str, ...] = ("BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT")
    history_hours: float = 6.0
    seed: int = 7
    namespace: str = "levibot-demo"
    scrape_seconds: int = 2
    # Constant volatility: on the demo's minute-long drift windows a calm or stormy regime would
    # itself read as drift (bench/predictor_drift.py); the one drift is the injected one.
    regime_seconds: float = 0.0


@dataclass
class LocalStack:
    """Every process of the demo, started in order and stopped in reverse."""

    config: StackConfig
    cluster: LocalCluster | None = None
    postgres: PostgresServer | None = None
    prometheus: PrometheusServer | None = None
    alertmanager: AlertmanagerServer | None = None
    processes: dict[str, Process] = field(default_factory=dict)
    streams: list[BackgroundTraffic] = field(default_factory=list)
    dsn: str = ""

    @property
    def workdir(self) -> Path:
        return self.config.workdir

    @property
    def kube(self) -> LocalCluster:
        """The control plane (the stack must be up)."""
        if self.cluster is None:
            raise RuntimeError("the local stack is not up")
        return self.cluster

    @property
    def prom(self) -> PrometheusServer:
        if self.prometheus is None:
            raise RuntimeError("the local stack is not up")
        return self.prometheus

    @property
    def am(self) -> AlertmanagerServer:
        if self.alertmanager is None:
            raise RuntimeError("the local stack is not up")
        return self.alertmanager

    # -- start -------------------------------------------------------------
    def up(self, say: Any = print) -> LocalStack:
        self.workdir.mkdir(parents=True, exist_ok=True)
        left = processes_mentioning(self.workdir)
        if left:
            say(f"stopping {len(left)} processes a previous run in {self.workdir} left behind")
            for pid in left:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        say("control plane + local kubelet")
        targets = self.workdir / "prometheus-targets.json"
        self.cluster = LocalCluster(self.workdir / "cluster", nodes=0).up()
        self.processes["kubelet"] = start_kubelet(self.cluster, self.workdir / "kubelet", targets)
        say("PostgreSQL with seeded market data and a live feed")
        self._start_database()
        say("Prometheus (the chart's alert rules) and Alertmanager")
        self._start_monitoring(targets)
        say("helm install levibot (operator pod with the chart's RBAC)")
        release.install_chart(self.kube, self.prom.url)
        self._wire_alertmanager()
        self.create_tenant_namespace()
        return self

    def _start_database(self) -> None:
        self.postgres = market.start_postgres(self.workdir / "postgres")
        self.dsn = self.postgres.create_database("levibot")
        c = self.config
        seed = market.build_seed_argv(self.dsn, c.symbols, c.seed, c.regime_seconds)
        seed += ["--hours", str(c.history_hours)]
        subprocess.run(seed, check=True, capture_output=True, text=True)
        self.start_feed()

    def start_feed(self, drift_from: str | None = None) -> None:
        """(Re)starts the live tick feed; with `drift_from`, the distribution shifts then."""
        if "feed" in self.processes:
            self.processes.pop("feed").stop()
        c = self.config
        argv = market.build_feed_argv(self.dsn, c.symbols, c.seed, c.regime_seconds, drift_from)
        feed = Process(argv, self.workdir / "logs" / "feed.log")
        feed.start()
        self.processes["feed"] = feed

    def _start_monitoring(self, targets: Path) -> None:
        for name in ("alertmanager", "prometheus"):  # a second run must not see the last's series
            shutil.rmtree(self.workdir / name, ignore_errors=True)
        am = AlertmanagerServer(self.workdir / "alertmanager").start(NULL_ALERTMANAGER)
        self.alertmanager = am
        rules = self.workdir / "rules.yml"
        rules.write_text(release.render_alert_rules())
        every = self.config.scrape_seconds
        config = build_prometheus_config(targets, rules, am.port, every)
        self.prometheus = PrometheusServer(self.workdir / "prometheus").start(config)

    def _wire_alertmanager(self) -> None:
        """Points Alertmanager at the operator pods' webhook, with the chart's token."""
        token_file = self.workdir / "webhook-token"
        release.write_webhook_token(self.kube, token_file)
        ports = wait_until(self.webhook_ports, 60, "the operator pods to start")
        urls = [f"http://127.0.0.1:{port}/alerts" for port in ports]
        self.am.reload(build_alertmanager_config(urls, token_file))

    def create_tenant_namespace(self, name: str | None = None) -> str:
        """A namespace for ModelDeployments, with the database Secret the examples reference."""
        ns = name or self.config.namespace
        self.kube.kubectl("create", "namespace", ns, check=False)
        literal = f"--from-literal=dsn={self.dsn}"
        create = ["-n", ns, "create", "secret", "generic", "levibot-db", literal]
        secret = self.kube.kubectl(*create, "--dry-run=client", "-o", "json").stdout
        self.kube.kubectl("apply", "-f", "-", input=secret)
        return ns

    # -- the operator ------------------------------------------------------
    def operator_pods(self) -> list[dict[str, Any]]:
        return release.fetch_operator_pods(self.kube)

    def webhook_ports(self) -> list[int]:
        """The loopback port of every operator pod's webhook, once all have one (else [])."""
        return release.parse_webhook_ports(self.operator_pods())

    def kill_operator(self) -> str:
        """SIGKILLs the operator container's processes (as an OOM kill would); the local kubelet
        restarts it like any container. Returns the pod's name."""
        [pod] = self.operator_pods()[:1]
        release.kill_pod_processes(pod, self.workdir / "kubelet")
        return str(pod["metadata"]["name"])

    def operator_restarts(self, pod_name: str) -> int:
        """restartCount of the operator pod `pod_name`, as the kubelet reports it."""
        pod = self.get(SYSTEM_NS, "pod", pod_name)
        statuses = pod.get("status", {}).get("containerStatuses") or [{}]
        return int(statuses[0].get("restartCount", 0))

    # -- using it ----------------------------------------------------------
    def apply(self, ns: str, obj: dict[str, Any]) -> None:
        self.kube.kubectl("-n", ns, "apply", "-f", "-", input=json.dumps(obj))

    def get(self, ns: str, *what: str) -> Any:
        return json.loads(self.kube.kubectl("-n", ns, "get", *what, "-o", "json").stdout)

    def send_traffic(self, ns: str, service: str, seconds: float, rate: float = 20) -> TrafficStats:
        """Predictions through `service`'s ready pods, as the Service would balance them."""
        symbols = self._symbols_of(ns, service)

        async def run() -> TrafficStats:
            async with KubeApi(self.kube.kubeconfig) as api:
                traffic = ServiceTraffic(api, ns, service, symbols)
                return await traffic.run(rate=rate, seconds=seconds)

        return asyncio.run(run())

    def start_traffic(self, ns: str, service: str, rate: float = 20) -> BackgroundTraffic:
        """A steady stream of predictions through `service` until `down` (or its `stop`)."""
        symbols = self._symbols_of(ns, service)
        stream = BackgroundTraffic(self.kube.kubeconfig, ns, service, symbols, rate).start()
        self.streams.append(stream)
        return stream

    def _symbols_of(self, ns: str, name: str) -> list[str]:
        """The symbols ModelDeployment `name` serves (its Service has the same name)."""
        return list(self.get(ns, "md", name)["spec"]["symbols"])

    def prom_query(self, query: str) -> list[Any]:
        url = f"{self.prom.url}/api/v1/query?query={urllib.parse.quote(query)}"
        with urllib.request.urlopen(url, timeout=5) as resp:
            return list(json.load(resp)["data"]["result"])

    def registry_rows(self, model_name: str) -> list[dict[str, Any]]:
        return market.fetch_rows(
            self.dsn,
            "SELECT version, status, reason, metrics FROM model_registry"
            " WHERE model_name = $1 ORDER BY created_at",
            model_name,
        )

    def latest_tick(self) -> float:
        """Epoch seconds of the newest tick in market_ticks."""
        query = "SELECT extract(epoch FROM max(ts))::float8 AS t FROM market_ticks"
        return float(market.fetch_rows(self.dsn, query)[0]["t"])

    # -- stop --------------------------------------------------------------
    def down(self) -> None:
        while self.streams:
            self.streams.pop().stop()
        if self.cluster is not None:
            release.uninstall_chart(self.kube)
        for name in reversed(list(self.processes)):
            self.processes.pop(name).stop()
        for server in (self.prometheus, self.alertmanager, self.postgres):
            if server is not None:
                server.stop()
        if self.cluster is not None:
            self.cluster.down()


def load_example(path: str, name: str | None = None) -> dict[str, Any]:
    """A manifest from examples/, optionally renamed."""
    obj = dict(yaml.safe_load((ROOT / "examples" / path).read_text()))
    if name:
        obj["metadata"]["name"] = name
    return obj

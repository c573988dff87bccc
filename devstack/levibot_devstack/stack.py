"""The whole of levibot on one machine: what `make demo` and the e2e tests run.

Tooling layer. Starts, on loopback and without Docker:
- the local control plane whose only node is the local kubelet (pods really run);
- PostgreSQL 15 with seeded market history and a live tick feed;
- Prometheus scraping every predictor pod (file_sd from the local kubelet) and
  evaluating the chart's own alert rules; Alertmanager posting to the operator;
- levibot itself, installed with `helm install` from charts/levibot: the
  operator runs as a pod of the local kubelet, with the chart's ServiceAccount
  and RBAC, leader election and webhook.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import yaml

from levibot_devstack.cluster import ROOT, LocalCluster, tool_dir
from levibot_devstack.kubeapi import KubeApi
from levibot_devstack.services import (
    AlertmanagerServer,
    PostgresServer,
    Process,
    PrometheusServer,
    processes_mentioning,
    processes_under,
    wait_until,
)
from levibot_devstack.traffic import BackgroundTraffic, ServiceTraffic, TrafficStats

RELEASE = "levibot"
SYSTEM_NS = "levibot-system"
PY = sys.executable
LOCAL_VALUES = ROOT / "hack" / "local-values.yaml"


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
        self.start_cluster()
        say("PostgreSQL with seeded market data and a live feed")
        self.start_database()
        say("Prometheus (the chart's alert rules) and Alertmanager")
        self.start_monitoring()
        say("helm install levibot (operator pod with the chart's RBAC)")
        self.install_chart()
        self.wire_alertmanager()
        self.create_tenant_namespace()
        return self

    def start_cluster(self) -> None:
        self.cluster = LocalCluster(self.workdir / "cluster", nodes=0).up()
        kubelet = start_kubelet(self.cluster, self.workdir / "kubelet", self.targets_file)
        self.processes["kubelet"] = kubelet

    @property
    def targets_file(self) -> Path:
        return self.workdir / "prometheus-targets.json"

    def start_database(self) -> None:
        pg_dir = self.workdir / "postgres"
        shutil.rmtree(pg_dir, ignore_errors=True)  # every run starts from the same seeded state
        pg_dir.mkdir()
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(pg_dir, pw.pw_uid, pw.pw_gid)
        self.postgres = PostgresServer(pg_dir).start()
        self.dsn = self.postgres.create_database("levibot")
        symbols = ",".join(self.config.symbols)
        seed = [
            PY,
            "-m",
            "levibot_common.seed",
            "--dsn",
            self.dsn,
            "--symbols",
            symbols,
            "--seed",
            str(self.config.seed),
            "--regime-seconds",
            str(self.config.regime_seconds),
        ]
        subprocess.run(
            [*seed, "--hours", str(self.config.history_hours)],
            check=True,
            capture_output=True,
            text=True,
        )
        self.start_feed()

    def start_feed(self, drift_from: str | None = None) -> None:
        """(Re)starts the live tick feed; with `drift_from`, the distribution shifts then."""
        if "feed" in self.processes:
            self.processes.pop("feed").stop()
        argv = [
            PY,
            "-m",
            "levibot_common.seed",
            "--dsn",
            self.dsn,
            "--hours",
            "0",
            "--live",
            "--symbols",
            ",".join(self.config.symbols),
            "--seed",
            str(self.config.seed + (1 if drift_from else 0)),
            "--regime-seconds",
            str(self.config.regime_seconds),
        ]
        if drift_from:
            argv += ["--drift-from", drift_from]
        self._start("feed", Process(argv, self.workdir / "logs" / "feed.log"))

    def start_monitoring(self) -> None:
        for name in ("alertmanager", "prometheus"):  # a second run must not see the last's series
            shutil.rmtree(self.workdir / name, ignore_errors=True)
        self.alertmanager = AlertmanagerServer(self.workdir / "alertmanager").start(
            "route: {receiver: nowhere}\nreceivers: [{name: nowhere}]\n"
        )
        rules = self.workdir / "rules.yml"
        rules.write_text(render_alert_rules())
        self.prometheus = PrometheusServer(self.workdir / "prometheus").start(
            build_prometheus_config(
                self.targets_file, rules, self.alertmanager.port, self.config.scrape_seconds
            )
        )

    def install_chart(self) -> None:
        helm = str(tool_dir() / "helm")
        env = {**os.environ, "KUBECONFIG": str(self.kube.kubeconfig)}
        subprocess.run(
            [
                helm,
                "upgrade",
                "--install",
                RELEASE,
                str(ROOT / "charts" / "levibot"),
                "--namespace",
                SYSTEM_NS,
                "--create-namespace",
                "-f",
                str(LOCAL_VALUES),
                "--set",
                f"operator.prometheusUrl={self.prom.url}",
            ],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        )

    def operator_pods(self) -> list[dict[str, Any]]:
        out = self.kube.kubectl(
            "-n",
            SYSTEM_NS,
            "get",
            "pods",
            "-l",
            "app.kubernetes.io/component=operator",
            "-o",
            "json",
        )
        return list(json.loads(out.stdout)["items"])

    def wire_alertmanager(self) -> None:
        """Points Alertmanager at the operator pods' webhook, with the chart's token."""
        secret = self.kube.kubectl(
            "-n",
            SYSTEM_NS,
            "get",
            "secret",
            f"{RELEASE}-webhook",
            "-o",
            "jsonpath={.data.token}",
        ).stdout
        token_file = self.workdir / "webhook-token"
        token_file.write_bytes(base64.b64decode(secret))
        token_file.chmod(0o600)
        ports = wait_until(self.webhook_ports, 60, "the operator pods to start")
        urls = [f"http://127.0.0.1:{port}/alerts" for port in ports]
        self.am.reload(build_alertmanager_config(urls, token_file))

    def kill_operator(self) -> str:
        """SIGKILLs the operator container's processes (as an OOM kill would); the local kubelet
        restarts it like any container. Returns the pod's name."""
        [pod] = self.operator_pods()[:1]
        pids = processes_under(self.workdir / "kubelet" / "pods" / pod["metadata"]["uid"])
        if not pids:
            raise RuntimeError(f"no process runs operator pod {pod['metadata']['name']}")
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return str(pod["metadata"]["name"])

    def operator_restarts(self, pod_name: str) -> int:
        """restartCount of the operator pod `pod_name`, as the kubelet reports it."""
        pod = self.get(SYSTEM_NS, "pod", pod_name)
        statuses = pod.get("status", {}).get("containerStatuses") or [{}]
        return int(statuses[0].get("restartCount", 0))

    def webhook_ports(self) -> list[int]:
        """The loopback port of every operator pod's webhook, once all have one (else [])."""
        ports = []
        for pod in self.operator_pods():
            mapping = pod["metadata"].get("annotations", {}).get("levibot.io/local-ports")
            if mapping is None:
                return []
            ports.append(int(json.loads(mapping)["8443"]))
        return ports

    def create_tenant_namespace(self, name: str | None = None) -> str:
        """A namespace for ModelDeployments, with the database Secret the examples reference."""
        ns = name or self.config.namespace
        self.kube.kubectl("create", "namespace", ns, check=False)
        secret = self.kube.kubectl(
            "-n",
            ns,
            "create",
            "secret",
            "generic",
            "levibot-db",
            f"--from-literal=dsn={self.dsn}",
            "--dry-run=client",
            "-o",
            "json",
        ).stdout
        self.kube.kubectl("apply", "-f", "-", input=secret)
        return ns

    # -- using it ----------------------------------------------------------
    def apply(self, ns: str, obj: dict[str, Any]) -> None:
        self.kube.kubectl("-n", ns, "apply", "-f", "-", input=json.dumps(obj))

    def get(self, ns: str, *what: str) -> Any:
        return json.loads(self.kube.kubectl("-n", ns, "get", *what, "-o", "json").stdout)

    def symbols_of(self, ns: str, name: str) -> list[str]:
        """The symbols ModelDeployment `name` serves (its Service has the same name)."""
        return list(self.get(ns, "md", name)["spec"]["symbols"])

    def send_traffic(self, ns: str, service: str, seconds: float, rate: float = 20) -> TrafficStats:
        """Predictions through `service`'s ready pods, as the Service would balance them."""
        symbols = self.symbols_of(ns, service)

        async def run() -> TrafficStats:
            async with KubeApi(self.kube.kubeconfig) as api:
                traffic = ServiceTraffic(api, ns, service, symbols)
                return await traffic.run(rate=rate, seconds=seconds)

        return asyncio.run(run())

    def start_traffic(self, ns: str, service: str, rate: float = 20) -> BackgroundTraffic:
        """A steady stream of predictions through `service` until `down` (or its `stop`)."""
        symbols = self.symbols_of(ns, service)
        stream = BackgroundTraffic(self.kube.kubeconfig, ns, service, symbols, rate).start()
        self.streams.append(stream)
        return stream

    def prom_query(self, query: str) -> list[Any]:
        url = f"{self.prom.url}/api/v1/query?query={urllib.parse.quote(query)}"
        with urllib.request.urlopen(url, timeout=5) as resp:
            return list(json.load(resp)["data"]["result"])

    def sql(self, query: str, *args: Any) -> list[dict[str, Any]]:
        """Rows of one query on the stack's database."""

        async def fetch() -> list[dict[str, Any]]:
            conn = await asyncpg.connect(self.dsn)
            try:
                return [dict(r) for r in await conn.fetch(query, *args)]
            finally:
                await conn.close()

        return asyncio.run(fetch())

    def registry_rows(self, model_name: str) -> list[dict[str, Any]]:
        return self.sql(
            "SELECT version, status, reason, metrics FROM model_registry"
            " WHERE model_name = $1 ORDER BY created_at",
            model_name,
        )

    def latest_tick(self) -> float:
        """Epoch seconds of the newest tick in market_ticks."""
        rows = self.sql("SELECT extract(epoch FROM max(ts))::float8 AS t FROM market_ticks")
        return float(rows[0]["t"])

    # -- stop --------------------------------------------------------------
    def down(self) -> None:
        while self.streams:
            self.streams.pop().stop()
        if self.cluster is not None:
            helm = str(tool_dir() / "helm")
            env = {**os.environ, "KUBECONFIG": str(self.kube.kubeconfig)}
            subprocess.run(
                [helm, "uninstall", RELEASE, "-n", SYSTEM_NS, "--wait"],
                check=False,
                capture_output=True,
                env=env,
                timeout=60,
            )
        for name in reversed(list(self.processes)):
            self.processes.pop(name).stop()
        for server in (self.prometheus, self.alertmanager, self.postgres):
            if server is not None:
                server.stop()
        if self.cluster is not None:
            self.cluster.down()

    def _start(self, name: str, process: Process) -> None:
        process.start()
        self.processes[name] = process


def load_example(path: str, name: str | None = None) -> dict[str, Any]:
    """A manifest from examples/, optionally renamed."""
    obj = dict(yaml.safe_load((ROOT / "examples" / path).read_text()))
    if name:
        obj["metadata"]["name"] = name
    return obj


def start_kubelet(cluster: LocalCluster, workdir: Path, sd_file: Path) -> Process:
    """Starts the local kubelet (kubelet.py) for `cluster` and waits until its node is Ready."""
    argv = [PY, "-m", "levibot_devstack.kubelet", "--kubeconfig", str(cluster.kubeconfig)]
    argv += ["--workdir", str(workdir), "--prometheus-sd-file", str(sd_file)]
    kubelet = Process(argv, workdir.parent / "logs" / "kubelet.log")
    kubelet.start()
    jsonpath = '{.status.conditions[?(@.type=="Ready")].status}'

    def ready() -> bool:
        if not kubelet.alive():
            raise RuntimeError(f"the local kubelet exited:\n{kubelet.tail()}")
        get = ["get", "node", "levibot-local", "-o", f"jsonpath={jsonpath}"]
        return cluster.kubectl(*get, check=False).stdout == "True"

    wait_until(ready, 60, "the local kubelet's node")
    return kubelet


def render_alert_rules() -> str:
    """The chart's Prometheus rules (the PrometheusRule's groups) as a rules file."""
    helm = str(tool_dir() / "helm")
    out = subprocess.run(
        [
            helm,
            "template",
            RELEASE,
            str(ROOT / "charts" / "levibot"),
            "--show-only",
            "templates/prometheusrule.yaml",
            "-f",
            str(LOCAL_VALUES),
            "--set",
            "prometheusRule.enabled=true",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rule = yaml.safe_load(out)
    return str(yaml.safe_dump({"groups": rule["spec"]["groups"]}, sort_keys=False))


def build_prometheus_config(targets: Path, rules: Path, am_port: int, every: int) -> str:
    return json.dumps(
        {
            "global": {"scrape_interval": f"{every}s", "evaluation_interval": f"{every}s"},
            "rule_files": [str(rules)],
            "alerting": {
                "alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]}]
            },
            "scrape_configs": [
                {
                    "job_name": "levibot-predictors",
                    "file_sd_configs": [{"files": [str(targets)], "refresh_interval": "5s"}],
                }
            ],
        },
        indent=1,
    )


def build_alertmanager_config(urls: list[str], token_file: Path) -> str:
    auth = {"authorization": {"type": "Bearer", "credentials_file": str(token_file)}}
    return json.dumps(
        {
            "route": {
                "receiver": "levibot",
                "group_by": ["namespace", "modeldeployment", "version", "alertname"],
                "group_wait": "0s",
                "group_interval": "5s",
                "repeat_interval": "1m",
            },
            "receivers": [
                {
                    "name": "levibot",
                    "webhook_configs": [
                        {"url": url, "send_resolved": True, "http_config": auth} for url in urls
                    ],
                }
            ],
        },
        indent=1,
    )

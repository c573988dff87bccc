"""Helpers for operator cluster tests: install the CRD, run the operator as a subprocess,
write the registry exactly as the trainer does, wait for conditions.

Used by tests/operator/test_cluster_*.py and bench/operator_lifecycle.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import asyncpg
import yaml

from levibot_common import registry, schema
from levibot_devstack.cluster import LocalCluster
from levibot_devstack.net import free_port

ROOT = Path(__file__).resolve().parents[3]
CRD = ROOT / "crds" / "modeldeployment.yaml"
CANARY_CRD = ROOT / "crds" / "canary.yaml"
EXAMPLE = ROOT / "examples" / "modeldeployment.yaml"
T = TypeVar("T")


def install_crd(kube: LocalCluster) -> None:
    """Apply both CRDs, as the chart does, and wait until they are Established: the
    ModelDeployment's reconcile reads its Canaries (at most one open rollout per target)."""
    for crd in (CRD, CANARY_CRD):
        kube.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(crd))
    for name in ("modeldeployments", "canaries"):
        kube.kubectl(
            "wait", "--for=condition=Established", f"crd/{name}.levibot.io", "--timeout=60s"
        )


def load_example() -> dict[str, Any]:
    """The example ModelDeployment as a dict."""
    return dict(yaml.safe_load(EXAMPLE.read_text()))


def get_json(kube: LocalCluster, *args: str) -> Any:
    """`kubectl get ... -o json` parsed; None when absent."""
    out = kube.kubectl("get", *args, "-o", "json", "--ignore-not-found", check=False)
    return json.loads(out.stdout) if out.stdout.strip() else None


def apply_doc(kube: LocalCluster, namespace: str, doc: dict[str, Any]) -> None:
    """kubectl apply a document into a namespace."""
    kube.kubectl("-n", namespace, "apply", "-f", "-", input=json.dumps(doc))


def create_db_secret(
    kube: LocalCluster, namespace: str, dsn: str, name: str = "levibot-db"
) -> None:
    """The Secret holding the DSN, as a user would create it."""
    kube.kubectl("-n", namespace, "create", "secret", "generic", name, f"--from-literal=dsn={dsn}")


def wait_for(check: Callable[[], T | None], timeout: float = 90, what: str = "") -> T:
    """Poll until ``check`` returns a truthy value; fail with ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        time.sleep(0.3)


def condition(obj: dict[str, Any] | None, kind: str) -> dict[str, Any] | None:
    """A condition of an object's status."""
    conditions = ((obj or {}).get("status") or {}).get("conditions") or []
    return next((x for x in conditions if x.get("type") == kind), None)


class OperatorProcess:
    """`python -m levibot_operator` against the local cluster, killable at any instant."""

    def __init__(self, kube: LocalCluster, log_path: Path, **env: str) -> None:
        self.kube, self.log_path, self.extra = kube, log_path, env
        self.proc: subprocess.Popen[bytes] | None = None
        self.log: BinaryIO | None = None
        # Every server on loopback, on ports of its own (several replicas may run at once).
        self.webhook_port, self.metrics_port = free_port(), free_port()
        self.token_file = log_path.with_name(f"{log_path.stem}.token")
        if not self.token_file.exists():
            self.token_file.write_text(f"token-{os.urandom(8).hex()}\n")
        self.token = self.token_file.read_text().strip()

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self.webhook_port}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}"

    def env(self) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("LEVIBOT_OPERATOR_")}
        base.update(
            KUBECONFIG=str(self.kube.kubeconfig),
            LEVIBOT_OPERATOR_STANDALONE="true",
            LEVIBOT_OPERATOR_RESYNC_SECONDS="2",
            LEVIBOT_OPERATOR_RETRY_DELAY_SECONDS="1",
            LEVIBOT_OPERATOR_WEBHOOK_TOKEN_FILE=str(self.token_file),
            PYTHONPATH=str(ROOT),
        )
        base.update(self.extra)
        # Whatever else the caller sets (e.g. a chart's env): servers on loopback, free ports.
        base.update(
            LEVIBOT_OPERATOR_WEBHOOK_HOST="127.0.0.1",
            LEVIBOT_OPERATOR_WEBHOOK_PORT=str(self.webhook_port),
            LEVIBOT_OPERATOR_METRICS_HOST="127.0.0.1",
            LEVIBOT_OPERATOR_METRICS_PORT=str(self.metrics_port),
        )
        return base

    def start(self) -> OperatorProcess:
        if self.log is None:
            self.log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "levibot_operator"],
            env=self.env(),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no cleanup at all, as a crashed pod."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.log is not None:
            self.log.close()
            self.log = None

    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid


async def _register(dsn: str, model_name: str, version: str, metrics: dict[str, float]) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await schema.apply_schema(conn)
        await registry.register_version(
            conn,
            model_name=model_name,
            version=version,
            onnx=f"onnx-bytes-of-{model_name}-{version}".encode(),
            metadata={"trainer": "test-harness"},
            metrics=metrics,
            reference=None,
        )
    finally:
        await conn.close()


def register_version(dsn: str, model_name: str, version: str) -> None:
    """Write the registry row exactly as the trainer does (status candidate)."""
    asyncio.run(_register(dsn, model_name, version, {"accuracy": 0.61, "ece": 0.031}))


async def _fetch_status(dsn: str, model_name: str, version: str) -> str | None:
    conn = await asyncpg.connect(dsn)
    try:
        value = await conn.fetchval(
            "SELECT status FROM model_registry WHERE model_name=$1 AND version=$2",
            model_name,
            version,
        )
        return str(value) if value is not None else None
    finally:
        await conn.close()


def registry_status(dsn: str, model_name: str, version: str) -> str | None:
    """The registry status of a version (None when absent)."""
    return asyncio.run(_fetch_status(dsn, model_name, version))


def apply_schema(dsn: str) -> None:
    """Create the registry tables (the trainer would on first run)."""

    async def run() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await schema.apply_schema(conn)
        finally:
            await conn.close()

    asyncio.run(run())

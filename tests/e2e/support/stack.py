"""Helpers for the end-to-end tests on the local stack (levibot_devstack.stack)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import numpy as np
from sklearn.linear_model import LogisticRegression

from levibot_common import registry
from levibot_devstack.stack import LocalStack, load_example
from levibot_trainer.core.export import build_onnx
from tests.operator.support.canary.alerts import post_payload

__all__ = [
    "MD",
    "canary_phase_history",
    "eventually",
    "load_example",
    "new_namespace",
    "post_alerts",
    "register_miscalibrated",
    "wait_canary",
    "wait_phase",
]
MD = "btc-direction"


def new_namespace(stack: LocalStack) -> str:
    return stack.create_tenant_namespace(f"e2e-{uuid.uuid4().hex[:8]}")


def eventually(check: Callable[[], Any], timeout: float, what: str, every: float = 1.0) -> Any:
    """Polls `check` until truthy; fails the test naming `what` and the last value."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except (KeyError, IndexError, TypeError) as err:
            last = err
        else:
            if last:
                return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; last: {last!r}")


def wait_phase(
    stack: LocalStack, ns: str, kind: str, name: str, phase: str, *, timeout: float
) -> Any:
    def reached() -> Any:
        obj = stack.get(ns, kind, name)
        return obj if obj.get("status", {}).get("phase") == phase else None

    return eventually(reached, timeout, f"{kind}/{name} phase {phase}")


def wait_canary(
    stack: LocalStack, ns: str, name: str, phase: str, *, timeout: float, reason: str | None = None
) -> Any:
    """The canary once its phase (and, if given, reason) is reached; a terminal phase other than
    the one awaited fails at once, naming the canary's message."""

    def reached() -> Any:
        canary = stack.get(ns, "canary", name)
        status = canary.get("status") or {}
        now = status.get("phase")
        if now in {"Succeeded", "RolledBack", "Failed"} and now != phase:
            raise AssertionError(f"canary {name} ended {now}: {status.get('message')}")
        if now == phase and reason in (None, status.get("reason")):
            return canary
        return None

    return eventually(reached, timeout, f"canary/{name} phase {phase} {reason or ''}")


def canary_phase_history(canary: Any) -> list[dict[str, Any]]:
    return list((canary.get("status") or {}).get("history") or [])


def post_alerts(stack: LocalStack, body: dict[str, Any]) -> list[int]:
    """POSTs an Alertmanager payload to every operator pod's webhook, as Alertmanager does;
    the HTTP status of each."""
    token = (stack.workdir / "webhook-token").read_text().strip()
    return [
        post_payload(f"http://127.0.0.1:{port}/alerts", token, body)
        for port in stack.webhook_ports()
    ]


def register_miscalibrated(
    stack: LocalStack, model_name: str, like: str, version: str, p_up: float = 0.95
) -> None:
    """Registers `version` with the metadata and drift reference of `like` but a model that says
    p_up ~ `p_up` whatever the market: a planted miscalibration, served by a real predictor."""

    async def run() -> None:
        conn = await asyncpg.connect(stack.dsn)
        try:
            base = await registry.fetch_version(conn, model_name, like)
            assert base.reference is not None
            rows = base.reference.rows
            labels = (np.random.default_rng(0).random(len(rows)) < p_up).astype(int)
            model = LogisticRegression().fit(rows, labels)
            await registry.register_version(
                conn,
                model_name=model_name,
                version=version,
                onnx=build_onnx(model, rows.shape[1]),
                metadata=dict(base.metadata),
                metrics=dict(base.metrics),
                reference=base.reference,
            )
        finally:
            await conn.close()

    asyncio.run(run())

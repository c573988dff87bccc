"""A canary reconciler wired to the recording fake API, a scripted Prometheus and a recording
registry, for the canary handler tests (tests/operator/shell/test_canary.py)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from levibot_operator.adapters import registry
from levibot_operator.adapters.metrics import OperatorMetrics
from levibot_operator.adapters.prometheus import PrometheusUnreachableError
from levibot_operator.core.canary.analysis import Query
from levibot_operator.settings import OperatorSettings
from levibot_operator.shell.canary import CanaryReconciler
from levibot_operator.shell.modeldeployment import Reconciler
from tests.operator.support.canary.builders import T0
from tests.operator.support.fakeapi import FakeApi
from tests.operator.support.fakes import md_body

NS, MD, CANARY = "prod", "btc-direction", "btc-next"
ROOT = "/apis/levibot.io/v1alpha1/namespaces/prod"
MD_PATH = f"{ROOT}/modeldeployments/{MD}"
CANARY_PATH = f"{ROOT}/canaries/{CANARY}"
DEPLOYMENTS = "/apis/apps/v1/namespaces/prod/deployments"
CANDIDATE_PATH = f"{DEPLOYMENTS}/{MD}-v2"
STABLE_PATH = f"{DEPLOYMENTS}/{MD}-v1"
HEALTHY: dict[Query, float | None] = {
    Query.SAMPLES: 500.0,
    Query.ECE: 0.03,
    Query.STABLE_ECE: 0.03,
    Query.KS_PVALUE: 0.5,
    Query.PSI: 0.05,
    Query.ERROR_RATE: 0.0,
    Query.LATENCY_P95: 0.02,
}


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class ScriptedPrometheus:
    """Answers every query from ``values``; ``down`` raises as an unreachable server would."""

    values: dict[Query, float | None] = field(default_factory=lambda: dict(HEALTHY))
    down: bool = False
    calls: int = 0
    alerts: list[tuple[dict[str, str], float]] = field(default_factory=list)
    drift_score: float | None = None
    candidate_drift_score: float | None = None

    async def fetch_values(self, queries: Mapping[Query, str]) -> dict[Query, float | None]:
        self.calls += 1
        if self.down:
            raise PrometheusUnreachableError("connection refused")
        return {key: self.values.get(key) for key in queries}

    async def fetch_vector(self, query: str) -> list[tuple[dict[str, str], float]]:
        """Drift alerts (``ALERTS`` queries) from ``alerts``; not counted in ``calls``."""
        if self.down:
            raise PrometheusUnreachableError("connection refused")
        return list(self.alerts) if "ALERTS" in query else []

    async def fetch_value(self, query: str) -> float | None:
        """A drift score (the only single-value queries outside an analysis): the candidate's
        lowest over the span (``min_over_time``), else the stable's highest."""
        if self.down:
            raise PrometheusUnreachableError("connection refused")
        return self.candidate_drift_score if "min_over_time" in query else self.drift_score


@dataclass
class RegistryRecorder:
    """Stands in for the registry's I/O: records status intents, knows the registered versions."""

    statuses: list[tuple[str, str, str]] = field(default_factory=list)
    highest: int = 1

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        async def set_status(_: Any, __: Any, version: str, **kw: Any) -> None:
            self.statuses.append((version, kw["status"], kw["reason"]))

        async def highest(*_: Any) -> int:
            return self.highest

        monkeypatch.setattr(registry, "patch_version_status", set_status)
        monkeypatch.setattr(registry, "fetch_highest_version", highest)


def canary_body(**spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "levibot.io/v1alpha1",
        "kind": "Canary",
        "metadata": {"name": CANARY, "namespace": NS, "uid": "uid-c", "generation": 1},
        "spec": {
            "target": MD,
            "candidate": {"version": "v2"},
            "analysis": {
                "interval": "1m",
                "count": 2,
                "thresholds": {"minSamples": 100, "eceMax": 0.06, "psiMax": 0.2},
            },
            "steps": [
                {"setWeight": 25},
                {"analysis": {}},
                {"setWeight": 50},
                {"pause": {"untilResumed": True}},
            ],
        },
    }
    body["spec"].update(spec)
    return body


def serving_md(**spec: Any) -> dict[str, Any]:
    """The example ModelDeployment, serving v1 on two replicas."""
    body = md_body(**spec)
    body.update(apiVersion="levibot.io/v1alpha1", kind="ModelDeployment")
    body["status"] = {"phase": "Ready", "stableVersion": "v1"}
    return body


def make_ready(api: FakeApi, path: str) -> None:
    """Every replica of a Deployment in the fake store becomes ready."""
    dep = api.store[path]
    replicas = dep["spec"]["replicas"]
    dep["status"] = {
        "readyReplicas": replicas,
        "updatedReplicas": replicas,
        "observedGeneration": dep["metadata"].get("generation", 1),
    }


def ready_deployment(replicas: int = 2, version: str = "v1") -> dict[str, Any]:
    labels = {"levibot.io/version": version, "levibot.io/track": "stable"}
    return {
        "metadata": {"name": f"{MD}-{version}", "namespace": NS, "labels": labels},
        "spec": {"replicas": replicas},
        "status": {"readyReplicas": replicas, "updatedReplicas": replicas},
    }


def build_world(
    prometheus: ScriptedPrometheus, canary: dict[str, Any] | None = None
) -> tuple[FakeApi, CanaryReconciler, Clock]:
    api, clock = FakeApi(), Clock()
    api.put(MD_PATH, serving_md())
    api.put(STABLE_PATH, ready_deployment())
    api.put(CANARY_PATH, copy.deepcopy(canary or canary_body()))
    settings = OperatorSettings()
    modeldeployments = Reconciler(api=api, settings=settings, clock=clock)  # type: ignore[arg-type]
    reconciler = CanaryReconciler(
        api=api,  # type: ignore[arg-type]
        settings=settings,
        clock=clock,
        md_locks=modeldeployments.locks,
        on_promoted=modeldeployments.reconcile_named,
        prometheus=prometheus,  # type: ignore[arg-type]
        metrics=OperatorMetrics(CollectorRegistry()),
    )
    return api, reconciler, clock


def canary_status(api: FakeApi) -> dict[str, Any]:
    return dict(api.store[CANARY_PATH].get("status") or {})


def writes(api: FakeApi) -> list[tuple[str, str]]:
    """The writes so far, Events left out, and forget them."""
    out = [w for w in api.writes if not w[1].endswith("/events")]
    api.writes.clear()
    return out


def events(api: FakeApi) -> list[dict[str, Any]]:
    return [v for k, v in api.store.items() if "/events/" in k]

"""The operator's own Prometheus metrics (injected registry) and the /metrics + /healthz app.

Layer: shell. Names are in docs/contracts.md: ``levibot_canary_weight{namespace, canary,
modeldeployment, type}`` (type ``desired`` or ``achieved``), ``levibot_canary_phase{...,
phase}`` (1 for the current phase, 0 for the others), ``levibot_alerts_received_total``,
``levibot_rollbacks_total{reason}`` and ``levibot_reconcile_errors_total{resource}``.
"""

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge
from prometheus_client.exposition import generate_latest

from levibot_operator.core.canary.status import CanaryStatus, Phase

CANARY_LABELS = ("namespace", "canary", "modeldeployment")


class OperatorMetrics:
    """The operator's metric families, registered on the registry handed in."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.weight = Gauge(
            "levibot_canary_weight",
            "Candidate traffic percentage of a canary (type desired or achieved).",
            (*CANARY_LABELS, "type"),
            registry=registry,
        )
        self.phase = Gauge(
            "levibot_canary_phase",
            "1 for the canary's current phase, 0 for the others.",
            (*CANARY_LABELS, "phase"),
            registry=registry,
        )
        self.alerts = Counter(
            "levibot_alerts_received", "Firing levibot alerts received.", registry=registry
        )
        self.rollbacks = Counter(
            "levibot_rollbacks", "Canary rollbacks, by reason.", ("reason",), registry=registry
        )
        self.reconcile_errors = Counter(
            "levibot_reconcile_errors",
            "Reconciles that failed (retried), by resource kind.",
            ("resource",),
            registry=registry,
        )

    def observe_canary(self, namespace: str, name: str, target: str, status: CanaryStatus) -> None:
        """Publish one canary's weights and phase."""
        labels = (namespace, name, target)
        self.weight.labels(*labels, "desired").set(status.desired_weight)
        self.weight.labels(*labels, "achieved").set(status.achieved_weight)
        for phase in Phase:
            self.phase.labels(*labels, phase.value).set(1 if phase is status.phase else 0)


def build_metrics_app(metrics: OperatorMetrics) -> web.Application:
    """``GET /metrics`` (text exposition) and ``GET /healthz`` (liveness)."""

    async def scrape(_: web.Request) -> web.Response:
        body = generate_latest(metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_get("/metrics", scrape)
    app.router.add_get("/healthz", healthz)
    return app

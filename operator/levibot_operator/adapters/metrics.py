"""The operator's own Prometheus metric families, registered on an injected registry.

Layer: adapters (publishes to Prometheus; ``servers.metrics`` serves them). Names are in
docs/contracts.md: ``levibot_canary_weight{namespace, canary, modeldeployment, type}`` (type
``desired`` or ``achieved``), ``levibot_canary_phase{..., phase}`` (1 for the current phase, 0 for
the others), ``levibot_alerts_received_total``, ``levibot_rollbacks_total{reason}`` and
``levibot_reconcile_errors_total{resource}``.
"""

from prometheus_client import CollectorRegistry, Counter, Gauge

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

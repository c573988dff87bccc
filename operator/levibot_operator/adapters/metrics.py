"""The operator's own Prometheus metric families, registered on an injected registry.

Layer: adapters (publishes to Prometheus; ``servers.metrics`` serves them). Names are in
docs/contracts.md: ``levibot_canary_weight{namespace, canary, modeldeployment, type}`` (type
``desired`` or ``achieved``), ``levibot_canary_phase{..., phase}`` (1 for the current phase, 0 for
the others), ``levibot_canary_check_estimate{..., check, bound}`` (bound ``estimate``, ``lower``,
``upper``, ``threshold`` or ``effective_n``) and ``levibot_canary_check_verdict{..., check,
verdict}`` (1 for the check's current verdict) of the last measurement,
``levibot_alerts_received_total``, ``levibot_rollbacks_total{reason}``,
``levibot_model_switches_total{namespace, modeldeployment, kind}`` (kind ``promotion`` or
``rollback``, once per written transition) and ``levibot_reconcile_errors_total{resource}``.
"""

import math

from prometheus_client import CollectorRegistry, Counter, Gauge

from levibot_operator.core.canary.analysis import CheckVerdict, Verdict
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
        self.check_estimate = Gauge(
            "levibot_canary_check_estimate",
            "A canary check's last estimate, interval bounds, threshold and effective n.",
            (*CANARY_LABELS, "check", "bound"),
            registry=registry,
        )
        self.check_verdict = Gauge(
            "levibot_canary_check_verdict",
            "1 for a canary check's last verdict, 0 for the others.",
            (*CANARY_LABELS, "check", "verdict"),
            registry=registry,
        )
        self.alerts = Counter(
            "levibot_alerts_received", "Firing levibot alerts received.", registry=registry
        )
        self.rollbacks = Counter(
            "levibot_rollbacks", "Canary rollbacks, by reason.", ("reason",), registry=registry
        )
        self.switches = Counter(
            "levibot_model_switches",
            "Canary promotions and rollbacks per ModelDeployment (kind promotion or rollback).",
            ("namespace", "modeldeployment", "kind"),
            registry=registry,
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
        for check in status.checks:
            self.observe_check(labels, check)

    def count_switch(self, namespace: str, target: str, kind: str) -> None:
        """One promotion or rollback of ``target``'s model."""
        self.switches.labels(namespace, target, kind).inc()

    def observe_check(self, labels: tuple[str, str, str], check: CheckVerdict) -> None:
        """Publish one check's numbers (the finite ones) and its verdict."""
        numbers = {
            "estimate": check.value, "lower": check.lower, "upper": check.upper,
            "threshold": check.threshold,
            "effective_n": None if check.n_eff is None else float(check.n_eff),
        }  # fmt: skip
        for bound, value in numbers.items():
            if value is not None and math.isfinite(value):
                self.check_estimate.labels(*labels, check.name, bound).set(value)
        for verdict in Verdict:
            shown = 1 if verdict is check.verdict else 0
            self.check_verdict.labels(*labels, check.name, verdict.value).set(shown)

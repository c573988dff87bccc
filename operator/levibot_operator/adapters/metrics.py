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
Paper trading (issue 15, never advice), per served version and window (``1d``, ``7d``):
``levibot_paper_pnl``, ``levibot_paper_sharpe``, ``levibot_paper_max_drawdown``,
``levibot_paper_trades`` and ``levibot_paper_win_rate{..., bound}`` (``estimate``, ``lower``,
``upper``), labelled ``{namespace, model, version, track, window}``; the breakers:
``levibot_circuit_breaker_tripped{namespace, model, version, track, breaker}`` (1 for the
breaker holding the kill-switch on, 0 otherwise) and ``levibot_circuit_breaker_reading{...,
breaker, bound}`` (``value`` and ``limit`` of each breaker's last reading), labelled like the
predictors' series (``model`` is the ModelDeployment, ``track`` stable) so the chart's alert
template applies; scrape the operator with ``honor_labels`` so ``namespace`` stays theirs.
"""

import math
from collections.abc import Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge

from levibot_operator.constants import TRACK_STABLE
from levibot_operator.core.canary.analysis import CheckVerdict, Verdict
from levibot_operator.core.canary.status import CanaryStatus, Phase
from levibot_operator.core.modeldeployment.breaker_state import BreakerState
from levibot_operator.core.modeldeployment.breakers import BREAKERS

CANARY_LABELS = ("namespace", "canary", "modeldeployment")
PAPER_LABELS = ("namespace", "model", "version", "track", "window")
PAPER_GAUGES = {  # status.paperTrading field -> (metric, help)
    "pnl": ("levibot_paper_pnl", "Paper PnL (net, fraction of the unit stake) per window."),
    "sharpe": ("levibot_paper_sharpe", "Annualised per-trade Sharpe of the paper trades."),
    "maxDrawdown": ("levibot_paper_max_drawdown", "Largest fall of the paper equity curve."),
    "trades": ("levibot_paper_trades", "Paper trades closed in the window."),
}
WIN_RATE_BOUNDS = {"winRate": "estimate", "winRateLow": "lower", "winRateHigh": "upper"}
BREAKER_LABELS = ("namespace", "model", "version", "track", "breaker")


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
        self.paper = {
            key: Gauge(metric, text, PAPER_LABELS, registry=registry)
            for key, (metric, text) in PAPER_GAUGES.items()
        }
        self.paper_win_rate = Gauge(
            "levibot_paper_win_rate",
            "Win rate of the paper trades and its Wilson 95 % bounds (bound estimate/lower/upper).",
            (*PAPER_LABELS, "bound"),
            registry=registry,
        )
        self.breaker_tripped = Gauge(
            "levibot_circuit_breaker_tripped",
            "1 for the circuit breaker holding the serving version's kill-switch on, else 0.",
            BREAKER_LABELS,
            registry=registry,
        )
        self.breaker_reading = Gauge(
            "levibot_circuit_breaker_reading",
            "A circuit breaker's last reading (bound value) and its limit (bound limit).",
            (*BREAKER_LABELS, "bound"),
            registry=registry,
        )
        self.reconcile_errors = Counter(
            "levibot_reconcile_errors",
            "Reconciles that failed (retried), by resource kind.",
            ("resource",),
            registry=registry,
        )

    def observe_paper(self, namespace: str, name: str, results: list[Mapping[str, Any]]) -> None:
        """Publish a ModelDeployment's paper results (``status.paperTrading.results``)."""
        for family in (*self.paper.values(), self.paper_win_rate):
            drop_series(family, namespace, name)
        for row in results:
            labels = (namespace, name, *(str(row.get(k, "")) for k in PAPER_LABELS[2:]))
            for key, gauge in self.paper.items():
                if isinstance(value := row.get(key), int | float) and math.isfinite(value):
                    gauge.labels(*labels).set(value)
            for key, bound in WIN_RATE_BOUNDS.items():
                if isinstance(value := row.get(key), int | float) and math.isfinite(value):
                    self.paper_win_rate.labels(*labels, bound).set(value)

    def observe_breaker(self, namespace: str, name: str, state: BreakerState) -> None:
        """Publish the serving version's breakers: which one trips, and the last readings."""
        drop_series(self.breaker_tripped, namespace, name)
        drop_series(self.breaker_reading, namespace, name)
        if not state.version:
            return
        for breaker in BREAKERS:
            shown = 1 if state.tripped and state.breaker == breaker else 0
            labels = (namespace, name, state.version, TRACK_STABLE, breaker)
            self.breaker_tripped.labels(*labels).set(shown)
        for reading in state.readings:
            for bound in ("value", "limit"):
                value = reading.get(bound)
                if isinstance(value, int | float) and math.isfinite(value):
                    breaker = str(reading.get("breaker"))
                    labels = (namespace, name, state.version, TRACK_STABLE, breaker)
                    self.breaker_reading.labels(*labels, bound).set(value)

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


def drop_series(gauge: Gauge, namespace: str, name: str) -> None:
    """Remove every series of one ModelDeployment from ``gauge`` (versions come and go)."""
    for labels in list(gauge._metrics):
        if labels[:2] == (namespace, name):
            gauge.remove(*labels)

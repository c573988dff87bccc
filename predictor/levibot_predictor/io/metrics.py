"""Prometheus metrics of one predictor (predictor I/O), registered on an injected registry.

Names follow docs/contracts.md; every metric carries ``model``, ``version`` and ``track``.
Faults and client errors are apart: ``levibot_model_errors_total`` (what the canary's errorRate
and the error alert read) counts model and server faults only, so junk requests cannot move it;
4xx answers and abandoned requests go to ``levibot_client_errors_total{reason}``.
Children for fixed label sets are bound once so the hot path only observes; children with a
per-request label (endpoint and status, error type, reason, symbol) are bound on first use and
kept in a small dict (the label values are bounded), so no request pays for a label lookup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase

BASE_LABELS = ("model", "version", "track")
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


def build_model_label(model_name: str) -> str:
    """The ModelDeployment name from a registry name ``<namespace>.<name>``."""
    return model_name.split(".", 1)[-1]


class PredictorMetrics:
    """All predictor metrics; ``base`` are the model/version/track label values."""

    def __init__(self, registry: CollectorRegistry, base: Sequence[str]) -> None:
        self.base = tuple(base)
        self.latency = Histogram(
            "levibot_model_latency_seconds", "Prediction handling latency.",
            [*BASE_LABELS, "endpoint"], buckets=LATENCY_BUCKETS, registry=registry,
        )  # fmt: skip
        self.requests = Counter(
            "levibot_predict_requests", "Requests by endpoint and HTTP status.",
            [*BASE_LABELS, "endpoint", "status"], registry=registry,
        )  # fmt: skip
        self.errors = Counter(
            "levibot_model_errors", "Model and server faults by type (never a client's error).",
            [*BASE_LABELS, "error_type"], registry=registry,
        )  # fmt: skip
        self.client_errors = Counter(
            "levibot_client_errors", "Refused or abandoned client requests by reason.",
            [*BASE_LABELS, "reason"], registry=registry,
        )  # fmt: skip
        self.fallbacks = Counter(
            "levibot_fallback_events", "Fallback answers by reason.", [*BASE_LABELS, "reason"],
            registry=registry,
        )  # fmt: skip
        self._build_gauges(registry)
        self._children: dict[tuple[Any, ...], Any] = {}
        self._log_dropped = Counter(
            "levibot_prediction_log_dropped", "Prediction log rows dropped.", BASE_LABELS,
            registry=registry,
        )  # fmt: skip
        self.log_dropped = self._log_dropped.labels(*self.base)

    def rebase(self, base: Sequence[str]) -> None:
        """New base labels (a promoted version's track): every series of the old ones goes, so
        no stale series lingers under the old track; the loops export the new ones again."""
        for metric in vars(self).values():
            # Parents only: a bound child (log_dropped) has label values and no children.
            if isinstance(metric, MetricWrapperBase) and not metric._labelvalues:
                metric.clear()
        self.base = tuple(base)
        self._children.clear()
        self.log_dropped = self._log_dropped.labels(*self.base)

    def _build_gauges(self, registry: CollectorRegistry) -> None:
        def gauge(name: str, doc: str, extra: Sequence[str] = ()) -> Gauge:
            return Gauge(name, doc, [*BASE_LABELS, *extra], registry=registry)

        self.staleness = gauge(
            "levibot_features_staleness_seconds", "Seconds since the last tick.", ["symbol"]
        )
        self.ticks_per_minute = gauge(
            "levibot_market_ticks_per_minute", "Ticks in the last minute.", ["symbol"]
        )
        self.ece = gauge("levibot_model_ece", "Rolling expected calibration error.")
        self.brier = gauge("levibot_model_brier", "Rolling Brier score.")
        self.accuracy = gauge("levibot_model_accuracy", "Rolling accuracy at p_up 0.5.")
        self.resolved = gauge(
            "levibot_resolved_predictions", "Resolved predictions in the rolling window."
        )
        self.psi = gauge("levibot_feature_psi", "PSI of recent rows vs reference.", ["feature"])
        self.ks_pvalue = gauge(
            "levibot_feature_ks_pvalue", "KS p-value of recent rows vs reference.", ["feature"]
        )
        self.drift_score = gauge(
            "levibot_feature_drift_score",
            "Drift statistic over the version's calibrated threshold (> 1: beyond the target "
            "false-alarm rate).", ["feature", "statistic"],
        )  # fmt: skip
        self.drift_calibrated = gauge(
            "levibot_drift_thresholds_calibrated",
            "1: drift scores use the version's calibrated thresholds; 0: the fixed fallback.",
        )
        self.kill_switch = gauge("levibot_kill_switch", "Kill-switch state (1 = on).")
        self.shadow_active = gauge(
            "levibot_shadow_active", "1 while a partner version scores every row in shadow.",
            ["partner"],
        )  # fmt: skip
        self.shadow_errors = Counter(
            "levibot_shadow_errors", "Shadow scoring failures (the answer is unaffected).",
            [*BASE_LABELS, "stage"], registry=registry,
        )  # fmt: skip
        self.model_info = gauge("levibot_active_model_info", "The loaded model (always 1).")

    def _child(self, metric: Any, *extra: str) -> Any:
        """The bound child of ``metric`` for base + ``extra`` labels, bound once."""
        key = (id(metric), *extra)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*self.base, *extra)
        return child

    def observe_request(self, endpoint: str, status: int, seconds: float | None) -> None:
        """Count one finished request and, when timed, its latency."""
        self._child(self.requests, endpoint, str(status)).inc()
        if seconds is not None:
            self._child(self.latency, endpoint).observe(seconds)

    def count_log_dropped(self, rows: int) -> None:
        """Count prediction log rows dropped (under the current base labels)."""
        self.log_dropped.inc(rows)

    def count_error(self, error_type: str) -> None:
        """Count one model or server fault (model_error, internal_error, unavailable)."""
        self._child(self.errors, error_type).inc()

    def count_client_error(self, reason: str) -> None:
        """Count one client error (invalid_request, not_found, too_large, disconnected, ...)."""
        self._child(self.client_errors, reason).inc()

    def count_fallback(self, reason: str, count: int = 1) -> None:
        """Count fallback answers for a reason."""
        self._child(self.fallbacks, reason).inc(count)

    def count_shadow_error(self, stage: str) -> None:
        """Count one shadow failure (``load`` of the partner, ``score`` of a request)."""
        self._child(self.shadow_errors, stage).inc()

    def set_shadow(self, partner: str | None) -> None:
        """Export which partner scores in shadow (``partner=""`` is 0 when none does)."""
        self.shadow_active.clear()
        self.shadow_active.labels(*self.base, partner or "").set(1.0 if partner else 0.0)

    def set_kill_switch(self, on: bool) -> None:
        """Export the kill-switch state."""
        self.kill_switch.labels(*self.base).set(1.0 if on else 0.0)

    def set_symbol(self, symbol: str, staleness: float | None, ticks: int | None) -> None:
        """Export one symbol's staleness and tick rate (unknown values are left alone)."""
        if staleness is not None:
            self._child(self.staleness, symbol).set(staleness)
        if ticks is not None:
            self._child(self.ticks_per_minute, symbol).set(ticks)

"""The drift score series (issue 14): levibot_feature_drift_score{feature,statistic} set from the
version's thresholds, the calibrated gauge saying when they are the fixed fallback, both
removed with the PSI/KS series; the loader reads the thresholds from the registry's metrics."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import numpy as np
import pytest
from prometheus_client import CollectorRegistry

from levibot_common.registry import DriftReference as StoredReference
from levibot_common.registry import ModelVersion
from levibot_predictor.core.drift import DriftReport
from levibot_predictor.core.drift_score import parse_thresholds
from levibot_predictor.io.background import clear_drift, export_drift, export_drift_scores
from levibot_predictor.io.loader import build_reference, check_thresholds
from levibot_predictor.io.metrics import PredictorMetrics
from tests.predictor.support.models import make_settings

FEATURES = ("ret_1m", "vol_1m")
BASE = {"model": "btc-direction", "version": "v3", "track": "canary"}
METRICS = {
    "auc": 0.55,
    "drift_thresholds": {
        "monitoring": {"window_seconds": 1800, "thin_seconds": 60, "interval_seconds": 15},
        "features": {
            "ret_1m": {"psi": 0.5, "ks_pvalue": 1e-4},
            "vol_1m": {"psi": 2.0, "ks_pvalue": 1e-8},
        },
    },
}
REPORT = DriftReport(FEATURES, psi=(0.25, 3.0), ks_pvalue=(1e-2, 1e-16))


def build_metrics() -> tuple[CollectorRegistry, PredictorMetrics]:
    registry = CollectorRegistry()
    return registry, PredictorMetrics(registry, tuple(BASE.values()))


def score(registry: CollectorRegistry, feature: str, statistic: str) -> float | None:
    labels = {**BASE, "feature": feature, "statistic": statistic}
    return registry.get_sample_value("levibot_feature_drift_score", labels)


def test_scores_are_exported_per_feature_and_statistic() -> None:
    registry, metrics = build_metrics()
    export_drift_scores(metrics, REPORT, parse_thresholds(METRICS, FEATURES))
    assert score(registry, "ret_1m", "psi") == pytest.approx(0.5)
    assert score(registry, "vol_1m", "psi") == pytest.approx(1.5)
    assert score(registry, "ret_1m", "ks") == pytest.approx(0.5)
    assert score(registry, "vol_1m", "ks") == pytest.approx(2.0)
    assert registry.get_sample_value("levibot_drift_thresholds_calibrated", BASE) == 1.0


def test_without_thresholds_the_fixed_fallback_is_exported_and_flagged() -> None:
    registry, metrics = build_metrics()
    export_drift_scores(metrics, REPORT, None)
    assert score(registry, "ret_1m", "psi") == pytest.approx(0.25 / 0.25)
    assert score(registry, "ret_1m", "ks") == pytest.approx(np.log(1e-2) / np.log(0.05))
    assert registry.get_sample_value("levibot_drift_thresholds_calibrated", BASE) == 0.0


def test_scores_go_with_the_psi_and_ks_series() -> None:
    registry, metrics = build_metrics()
    export_drift(metrics, REPORT)
    export_drift_scores(metrics, REPORT, parse_thresholds(METRICS, FEATURES))
    clear_drift(metrics, FEATURES)
    assert score(registry, "vol_1m", "psi") is None
    assert score(registry, "vol_1m", "ks") is None
    labels = {**BASE, "feature": "vol_1m"}
    assert registry.get_sample_value("levibot_feature_psi", labels) is None


def version(metrics: dict[str, object]) -> ModelVersion:
    rows = np.arange(20.0).reshape(10, 2)
    return ModelVersion(
        "prod.btc-direction", "v3", "registered", "", "0" * 64, {}, metrics,
        StoredReference(("vol_1m", "ret_1m"), rows), datetime.now(UTC), b"",
    )  # fmt: skip


def test_the_loader_reads_the_thresholds_of_the_version() -> None:
    reference = build_reference(version(METRICS), FEATURES)
    assert reference is not None
    assert reference.thresholds is not None
    assert reference.thresholds.calibrated
    assert reference.thresholds.psi == (0.5, 2.0)
    assert reference.rows[0].tolist() == [1.0, 0.0]  # columns in the model's order


def test_a_version_registered_before_calibration_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    reference = build_reference(version({"auc": 0.5}), FEATURES)
    assert reference is not None
    assert reference.thresholds is not None
    assert not reference.thresholds.calibrated
    with caplog.at_level(logging.WARNING, logger="levibot_predictor.io.loader"):
        check_thresholds(reference, make_settings())
    assert "no calibrated thresholds" in caplog.text


def test_thresholds_for_other_windows_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    reference = build_reference(version(METRICS), FEATURES)
    with caplog.at_level(logging.WARNING, logger="levibot_predictor.io.loader"):
        check_thresholds(reference, make_settings(drift_window_seconds=150.0))
    assert "window_seconds: 1800 -> 150" in caplog.text


def test_tail_scores_are_exported_when_the_version_has_tail_thresholds() -> None:
    document = {"drift_thresholds": {"features": {
        "ret_1m": {"psi": 0.5, "ks_pvalue": 1e-4, "tail": 0.1, "tail_symbol": 0.2},
        "vol_1m": {"psi": 2.0, "ks_pvalue": 1e-8, "tail": 0.2, "tail_symbol": 0.4},
    }}}  # fmt: skip
    report = DriftReport(FEATURES, psi=(0.25, 3.0), ks_pvalue=(1e-2, 1e-16), tail=(0.05, 0.5),
                         tail_symbol=(0.05, 1.0))  # fmt: skip
    registry, metrics = build_metrics()
    export_drift_scores(metrics, report, parse_thresholds(document, FEATURES))
    assert score(registry, "ret_1m", "tail") == pytest.approx(0.5)
    assert score(registry, "vol_1m", "tail") == pytest.approx(2.5)
    assert score(registry, "ret_1m", "tail_symbol") == pytest.approx(0.25)
    assert score(registry, "vol_1m", "tail_symbol") == pytest.approx(2.5)
    clear_drift(metrics, FEATURES)
    assert score(registry, "vol_1m", "tail") is None
    assert score(registry, "vol_1m", "tail_symbol") is None


def test_a_version_without_tail_thresholds_exports_no_tail_score() -> None:
    report = DriftReport(FEATURES, psi=(0.25, 3.0), ks_pvalue=(1e-2, 1e-16), tail=(0.05, 0.5))
    registry, metrics = build_metrics()
    export_drift_scores(metrics, report, parse_thresholds(METRICS, FEATURES))
    export_drift_scores(metrics, report, None)  # the fixed fallback has no tail either
    assert score(registry, "vol_1m", "tail") is None
    assert score(registry, "vol_1m", "psi") == pytest.approx(3.0 / 0.25)

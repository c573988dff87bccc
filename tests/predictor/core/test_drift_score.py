"""Drift scores (issue 14): the statistic over the version's calibrated threshold, and the
visible fallback to the fixed thresholds of a version registered before calibration."""

from __future__ import annotations

import math

import pytest

from levibot_predictor.core.drift_score import (
    FIXED_KS_PVALUE,
    FIXED_PSI_THRESHOLD,
    assess_ks_score,
    assess_scores,
    check_monitoring,
    parse_thresholds,
)

FEATURES = ("ret_1m", "vol_1m")
DOCUMENT = {
    "drift_thresholds": {
        "monitoring": {"window_seconds": 1800, "thin_seconds": 60, "interval_seconds": 15},
        "features": {
            "vol_1m": {"psi": 2.0, "ks_pvalue": 1e-6},
            "ret_1m": {"psi": 0.5, "ks_pvalue": 1e-3},
            "rsi_14": {"psi": 0.2, "ks_pvalue": 1e-2},  # a feature the model does not use
        },
    }
}


def test_calibrated_thresholds_are_read_in_the_model_feature_order() -> None:
    thresholds = parse_thresholds(DOCUMENT, FEATURES)
    assert thresholds.calibrated
    assert thresholds.psi == (0.5, 2.0)
    assert thresholds.ks_pvalue == (1e-3, 1e-6)


def test_a_version_without_thresholds_falls_back_to_the_fixed_ones() -> None:
    thresholds = parse_thresholds({"auc": 0.6}, FEATURES)
    assert not thresholds.calibrated
    assert thresholds.psi == (FIXED_PSI_THRESHOLD,) * 2
    assert thresholds.ks_pvalue == (FIXED_KS_PVALUE,) * 2


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"psi": 0.5}, "ret_1m.ks_pvalue"),
        ({"psi": -1.0, "ks_pvalue": 0.01}, "ret_1m.psi"),
        ({"psi": 0.5, "ks_pvalue": 1.0}, "ret_1m.ks_pvalue"),
        ({"psi": True, "ks_pvalue": 0.01}, "ret_1m.psi"),
    ],
)
def test_malformed_thresholds_name_the_field(entry: dict[str, object], field: str) -> None:
    document = {"drift_thresholds": {"features": {"ret_1m": entry, "vol_1m": entry}}}
    with pytest.raises(ValueError, match=rf"metrics\.drift_thresholds\.features\.{field}"):
        parse_thresholds(document, FEATURES)


def test_a_missing_feature_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"features\.zscore_60: missing"):
        parse_thresholds(DOCUMENT, ("zscore_60",))


@pytest.mark.parametrize(
    ("pvalue", "threshold", "score"),
    [(1e-3, 1e-3, 1.0), (1e-6, 1e-3, 2.0), (0.1, 1e-2, 0.5), (1.0, 0.05, 0.0)],
)
def test_ks_score_is_minus_log_p_over_minus_log_threshold(
    pvalue: float, threshold: float, score: float
) -> None:
    assert assess_ks_score(pvalue, threshold) == pytest.approx(score, abs=1e-12)


def test_ks_score_of_a_zero_p_value_is_finite() -> None:
    assert math.isfinite(assess_ks_score(0.0, 0.05))
    assert assess_ks_score(0.0, 0.05) > 100


def test_scores_are_the_statistics_over_their_thresholds() -> None:
    thresholds = parse_thresholds(DOCUMENT, FEATURES)
    scores = assess_scores(FEATURES, (0.25, 4.0), (1e-3, 1e-3), thresholds)
    assert scores.psi == pytest.approx((0.5, 2.0))
    assert scores.ks == pytest.approx((1.0, 0.5))


def test_scores_refuse_thresholds_of_other_features() -> None:
    with pytest.raises(ValueError, match="features"):
        assess_scores(("vol_1m",), (1.0,), (0.5,), parse_thresholds(DOCUMENT, FEATURES))


def test_other_monitoring_windows_are_reported() -> None:
    thresholds = parse_thresholds(DOCUMENT, FEATURES)
    same = {"window_seconds": 1800.0, "thin_seconds": 60.0, "interval_seconds": 15.0}
    assert check_monitoring(thresholds, same) == []
    assert check_monitoring(thresholds, {**same, "window_seconds": 150.0}) == [
        "window_seconds: 1800 -> 150"
    ]
    assert check_monitoring(parse_thresholds({}, FEATURES), same) == []


def test_tail_thresholds_are_read_and_scored_when_the_calibration_has_them() -> None:
    features = {
        "vol_1m": {"psi": 2.0, "ks_pvalue": 1e-6, "tail": 0.1, "tail_symbol": 0.4},
        "ret_1m": {"psi": 0.5, "ks_pvalue": 1e-3, "tail": 0.2, "tail_symbol": 0.5},
    }
    thresholds = parse_thresholds({"drift_thresholds": {"features": features}}, FEATURES)
    assert thresholds.tail == pytest.approx((0.2, 0.1))
    assert thresholds.tail_symbol == pytest.approx((0.5, 0.4))
    scores = assess_scores(FEATURES, (0.5, 2.0), (1e-3, 1e-6), thresholds, tail=(0.1, 0.3),
                           tail_symbol=(0.25, 0.6))  # fmt: skip
    assert scores.tail == pytest.approx((0.5, 3.0))
    assert scores.tail_symbol == pytest.approx((0.5, 1.5))
    unmeasured = assess_scores(FEATURES, (0.5, 2.0), (1e-3, 1e-6), thresholds)
    assert (unmeasured.tail, unmeasured.tail_symbol) == ((), ())


def test_a_calibration_without_tail_thresholds_gives_no_tail_score() -> None:
    thresholds = parse_thresholds(DOCUMENT, FEATURES)
    assert (thresholds.tail, thresholds.tail_symbol) == ((), ())
    scores = assess_scores(FEATURES, (0.5, 2.0), (1e-3, 1e-6), thresholds, tail=(0.1, 0.3),
                           tail_symbol=(0.1, 0.3))  # fmt: skip
    assert (scores.tail, scores.tail_symbol) == ((), ())


def test_a_calibration_from_before_the_per_symbol_share_scores_the_pooled_one_only() -> None:
    features = {
        "vol_1m": {"psi": 2.0, "ks_pvalue": 1e-6, "tail": 0.1},
        "ret_1m": {"psi": 0.5, "ks_pvalue": 1e-3, "tail": 0.2},
    }
    thresholds = parse_thresholds({"drift_thresholds": {"features": features}}, FEATURES)
    scores = assess_scores(FEATURES, (0.5, 2.0), (1e-3, 1e-6), thresholds, tail=(0.1, 0.3),
                           tail_symbol=(0.1, 0.3))  # fmt: skip
    assert (scores.tail, scores.tail_symbol) == (pytest.approx((0.5, 3.0)), ())


def test_a_tail_threshold_missing_for_one_feature_names_the_field() -> None:
    document = {"drift_thresholds": {"features": {
        "ret_1m": {"psi": 0.5, "ks_pvalue": 0.01, "tail": 0.1},
        "vol_1m": {"psi": 0.5, "ks_pvalue": 0.01},
    }}}  # fmt: skip
    with pytest.raises(ValueError, match=r"metrics\.drift_thresholds\.features\.vol_1m\.tail"):
        parse_thresholds(document, FEATURES)

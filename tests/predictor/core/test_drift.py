"""Drift math and the drift window: PSI/KS react to a planted shift, stay quiet without one
(false-alarm rate measured on iid rows and on autocorrelated per-second rows of a random walk,
where only the thinned KS is honest), the window counts the market not the traffic, and our KS
p-values match alibi-detect's KSDrift on the same data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy import stats

from levibot_common.features import LOOKBACK_SECONDS, feature_matrix
from levibot_predictor.core.drift import ScipyDriftDetector, assess_psi, plan_thinning
from levibot_predictor.core.window import DriftPlan, DriftReference, RowWindow, assess_drift
from tests.predictor.support.alibi import run_alibi_ks
from tests.predictor.support.models import make_rows

FEATURES = ("ret_1m", "ret_5m", "vol_1m", "vol_5m", "rsi_14", "zscore_60")
PSI_ALERT = 0.2  # seed threshold
KS_ALERT = 0.05


def test_planted_shift_is_detected_on_the_shifted_feature_only() -> None:
    reference = make_rows(2000, seed=1)
    current = make_rows(1000, seed=2)
    current[:, 4] += 0.5 * 15.0  # rsi_14 shifted by half a standard deviation
    report = ScipyDriftDetector().assess(FEATURES, reference, current)
    assert report.psi[4] > PSI_ALERT
    assert report.ks_pvalue[4] < 1e-6
    quiet = [i for i in range(6) if i != 4]
    assert all(report.psi[i] < 0.05 for i in quiet)
    assert sum(report.ks_pvalue[i] < 0.001 for i in quiet) == 0


def test_false_alarm_rate_without_shift() -> None:
    reference = make_rows(2000, seed=1)
    detector = ScipyDriftDetector()
    psi_alarms = ks_alarms = total = 0
    for seed in range(100, 150):
        report = detector.assess(FEATURES, reference, make_rows(1000, seed=seed))
        psi_alarms += sum(p > PSI_ALERT for p in report.psi)
        ks_alarms += sum(p < KS_ALERT for p in report.ks_pvalue)
        total += len(FEATURES)
    ks_rate = ks_alarms / total
    print(f"no-shift false alarms over {total} feature tests: PSI>0.2 {psi_alarms / total:.3f}, "
          f"KS p<0.05 {ks_rate:.3f}")  # fmt: skip
    assert psi_alarms == 0
    assert ks_rate <= 0.10  # nominal 5 %: the test's own false-positive rate


def test_psi_of_identical_samples_is_zero_and_grows_with_the_shift() -> None:
    sample = make_rows(2000, seed=3)[:, 0]
    values = [assess_psi(sample, sample + s * 1e-3) for s in (0.0, 0.25, 0.5, 1.0)]
    assert values[0] == pytest.approx(0.0, abs=1e-12)
    assert values == sorted(values)


def test_window_waits_for_enough_thinned_rows_and_keeps_the_newest() -> None:
    window = RowWindow(capacity=100, width=6)
    reference = DriftReference(FEATURES, make_rows(500, seed=1))
    plan = DriftPlan(min_rows=60, thin_seconds=60.0)
    window.add(make_rows(50, seed=2).astype(np.float32), now=10.0)
    assert assess_drift(ScipyDriftDetector(), reference, window.select(11.0), plan) is None
    newest = make_rows(120, seed=3).astype(np.float32)
    window.add(newest[:70], now=20.0)
    window.add(newest[70:], now=30.0)
    np.testing.assert_array_equal(window.snapshot(), newest[-100:].astype(np.float64))
    assert assess_drift(ScipyDriftDetector(), reference, window.select(31.0), plan) is not None


def test_symbol_rows_count_once_per_feature_second_and_age_out() -> None:
    window = RowWindow(capacity=2000, width=6, window_seconds=600.0)
    rows = make_rows(700, seed=4).astype(np.float32)
    for second in range(700):
        for _ in range(25):  # 25 requests in the same second carry the same features
            window.add_symbol("BTCUSDT", 1_000 + second, rows[second : second + 1])
        window.add_symbol("ETHUSDT", 1_000 + second, rows[second : second + 1])
    sample = window.select(now=1_700.0)
    assert sample.rows.shape == (2 * 599, 6)  # seconds 1101..1699 of both symbols
    assert sample.times.min() == 1_101.0
    assert set(sample.groups.tolist()) == {1, 2}
    assert not window.add_symbol("BTCUSDT", 1_650, rows[:1])  # an older second: ignored


def test_thinning_keeps_one_row_per_symbol_and_bucket_and_every_client_row() -> None:
    times = np.array([0.0, 10.0, 59.0, 60.0, 61.0, 0.0, 70.0, 5.0, 5.0])
    groups = np.array([1, 1, 1, 1, 1, 2, 2, 0, 0], dtype=np.int32)
    keep = plan_thinning(times, groups, 60.0)
    assert keep.tolist() == [True, False, False, True, False, True, True, True, True]


def make_walk_features(seed: int, seconds: int) -> NDArray[np.float64]:
    """Feature rows of a per-second random walk (constant volatility: no drift at all)."""
    rng = np.random.default_rng(seed)
    prices = 100.0 * np.exp(np.cumsum(rng.standard_normal(seconds + LOOKBACK_SECONDS) * 1e-4))
    return feature_matrix(prices, FEATURES)[LOOKBACK_SECONDS:]


def test_false_alarm_rate_on_autocorrelated_rows_is_nominal_only_when_thinned() -> None:
    reference = DriftReference(FEATURES, make_walk_features(0, 4 * 3600)[::60])
    plan = DriftPlan(min_rows=20, thin_seconds=60.0)
    thinned_alarms = raw_alarms = np.zeros(len(FEATURES))
    trials = 30
    for seed in range(1, trials + 1):
        current = make_walk_features(seed, 1800)
        window = RowWindow(capacity=2000, width=6, window_seconds=1800.0)
        for second, row in enumerate(current.astype(np.float32)):
            window.add_symbol("BTCUSDT", second, row[None, :])
        report = assess_drift(ScipyDriftDetector(), reference, window.select(1800.0), plan)
        assert report is not None
        raw = ScipyDriftDetector().assess(FEATURES, reference.rows, current)
        thinned_alarms = thinned_alarms + (np.array(report.ks_pvalue) < KS_ALERT)
        raw_alarms = raw_alarms + (np.array(raw.ks_pvalue) < KS_ALERT)
    raw_rate, thinned_rate = raw_alarms / trials, thinned_alarms / trials
    print("KS p<0.05 rate per feature on a random walk, every second:",
          dict(zip(FEATURES, raw_rate.round(2), strict=True)),
          "thinned:", dict(zip(FEATURES, thinned_rate.round(2), strict=True)))  # fmt: skip
    assert raw_rate.max() >= 0.5  # unthinned: p-values are meaningless
    assert thinned_rate.max() <= 0.2  # nominal 5 %, plus the test's own noise
    assert thinned_alarms.sum() / (trials * len(FEATURES)) <= 0.1


def test_thinned_ks_and_psi_catch_a_volatility_jump_on_a_random_walk() -> None:
    reference = DriftReference(FEATURES, make_walk_features(0, 4 * 3600)[::60])
    current = make_walk_features(7, 1800)
    current[:, 2:4] *= 3.0  # vol_1m and vol_5m: volatility tripled
    window = RowWindow(capacity=2000, width=6, window_seconds=1800.0)
    for second, row in enumerate(current.astype(np.float32)):
        window.add_symbol("BTCUSDT", second, row[None, :])
    report = assess_drift(
        ScipyDriftDetector(), reference, window.select(1800.0), DriftPlan(20, 60.0)
    )
    assert report is not None
    assert report.ks_pvalue[2] < 1e-6
    assert report.ks_pvalue[3] < KS_ALERT
    assert min(report.psi[2], report.psi[3]) > PSI_ALERT


def test_shapes_are_checked_with_the_field_named() -> None:
    with pytest.raises(ValueError, match="current"):
        ScipyDriftDetector().assess(FEATURES, make_rows(10), make_rows(10)[:, :3])


@pytest.mark.slow
def test_ks_pvalues_match_alibi_detect(tmp_path: Path) -> None:
    reference = make_rows(1000, seed=1).astype(np.float32).astype(np.float64)
    current = make_rows(500, seed=2)
    current[:, 0] += 0.2e-3
    current = current.astype(np.float32).astype(np.float64)
    ours = ScipyDriftDetector().assess(FEATURES, reference, current).ks_pvalue
    theirs = run_alibi_ks(reference, current, tmp_path)
    # alibi uses the asymptotic distribution in float32; ours lets scipy pick the exact one for
    # samples this small: same statistic, p-values within a few percent, same verdicts.
    asymptotic = [
        stats.ks_2samp(reference[:, i], current[:, i], method="asymp").pvalue for i in range(6)
    ]
    np.testing.assert_allclose(asymptotic, theirs, rtol=1e-4)
    np.testing.assert_allclose(ours, theirs, rtol=0.05)
    assert [p < KS_ALERT for p in ours] == [p < KS_ALERT for p in theirs]

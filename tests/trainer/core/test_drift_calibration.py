"""Drift thresholds calibrated on the training period (issue 14, item 1): the replay of the
predictor's windows, the alert's persistence, episode counting, the threshold for a target rate,
and a simulation: on a fresh stretch of the same healthy market, the realised false-alarm rate
matches the target within its sampling error."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy import signal

from levibot_common.drift import assess_psi_reach
from levibot_predictor.core.drift import ScipyDriftDetector
from levibot_predictor.core.drift_score import assess_scores, parse_thresholds
from levibot_predictor.core.window import DriftPlan, DriftReference, WindowSample, assess_drift
from levibot_trainer.core.drift_calibration import (
    TAIL_SHARE_FLOOR,
    MonitoringWindows,
    assess_persistent,
    calibrate_thresholds,
    count_episodes,
    derive_level,
    measure_statistics,
)

FEATURES = ("ret_1m", "rsi_14")
WINDOWS = MonitoringWindows(
    window_seconds=300, thin_seconds=30, interval_seconds=15, min_rows=5, for_seconds=30
)
SIMULATION = MonitoringWindows(
    window_seconds=300, thin_seconds=30, interval_seconds=30, min_rows=5, for_seconds=60
)
DAY = 86_400


def build_market(seconds: int, seed: int) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """A healthy, stationary, autocorrelated market: two AR(1) features, one row a second,
    correlation time ~60 s (as a one-minute feature's)."""
    rng = np.random.default_rng(seed)
    phi = math.exp(-1 / 60)
    shocks = rng.standard_normal((seconds, 2)) * math.sqrt(1 - phi**2)
    shocks[0] /= math.sqrt(1 - phi**2)  # starts stationary
    x = signal.lfilter([1.0], [1.0, -phi], shocks, axis=0)
    return np.arange(seconds, dtype=np.int64), np.asarray(x, dtype=np.float64)


def build_reference(t: NDArray[np.int64], x: NDArray[np.float64]) -> NDArray[np.float64]:
    return x[t % 60 == 0][-2000:]


@pytest.mark.parametrize(
    ("values", "level", "episodes"),
    [
        ([0, 2, 2, 0, 2, 0], 1.0, 2),
        ([2, 2, 2], 1.0, 1),  # above from the start: one alarm
        ([0, 1, 0], 1.0, 0),  # at the level is not above it
        ([np.nan, 2, np.nan, 2], 1.0, 2),  # absent breaks an episode
    ],
)
def test_episodes_are_upcrossings(values: list[float], level: float, episodes: int) -> None:
    persistent = assess_persistent(np.array(values, dtype=float), 1)
    assert count_episodes(persistent, level) == episodes


def test_persistence_is_the_minimum_over_the_alert_for() -> None:
    values = np.array([2.0, 2.0, 0.0, 2.0, 2.0, 2.0])
    persistent = assess_persistent(values, 3)
    assert persistent.tolist() == [-np.inf, -np.inf, 0.0, 0.0, 0.0, 2.0]
    assert count_episodes(persistent, 1.0) == 1  # only the run that lasted 3 evaluations


def test_a_level_is_counted_when_the_period_holds_enough_episodes() -> None:
    persistent = np.tile([0.0, 1.0, 0.0, 2.0, 0.0, 3.0], 10)  # 20 episodes above 1, 10 above 2
    assert derive_level(persistent, days=1.0, per_day=20.0) == 1.0
    assert derive_level(persistent, days=1.0, per_day=10.0) == 2.0
    assert derive_level(persistent, days=1.0, per_day=9.0) == 3.0  # none above 3


def test_a_rarer_target_is_extrapolated_past_the_largest_value_seen() -> None:
    rng = np.random.default_rng(1)
    persistent = rng.exponential(1.0, 5000)
    level = derive_level(persistent, days=1.0, per_day=0.01)
    assert level > persistent.max()
    assert derive_level(persistent, days=1.0, per_day=0.001) > level


def test_the_replay_measures_what_the_predictor_measures() -> None:
    t, x = build_market(4 * 3600, seed=3)
    reference = build_reference(t, x)
    stats = measure_statistics(FEATURES, reference, t, x, WINDOWS, max_ks_tests=10**6)
    plan = DriftPlan(WINDOWS.min_rows, WINDOWS.thin_seconds)
    for i in (0, 100, stats.ends.size - 1):
        end = stats.ends[i]
        inside = (t > end - WINDOWS.window_seconds) & (t <= end)
        sample = WindowSample(x[inside], t[inside].astype(float), np.ones(inside.sum(), np.int32))
        reference_ = DriftReference(FEATURES, reference)
        report = assess_drift(ScipyDriftDetector(), reference_, sample, plan)
        assert report is not None
        assert report.psi == pytest.approx(tuple(stats.psi[i]), rel=1e-9)
        assert report.ks_pvalue == pytest.approx(tuple(stats.ks_pvalue[i]), rel=1e-9)


def test_windows_below_min_rows_are_absent() -> None:
    t, x = build_market(3600, seed=4)
    sparse = MonitoringWindows(300, 30, 15, min_rows=12, for_seconds=30)  # at most 11 thinned
    stats = measure_statistics(FEATURES, build_reference(t, x), t, x, sparse)
    assert np.isnan(stats.psi).all()
    assert np.isnan(stats.ks_pvalue).all()


def count_realised(
    t: NDArray[np.int64], x: NDArray[np.float64], reference: NDArray[np.float64],
    document: dict[str, object],
) -> tuple[int, float]:  # fmt: skip
    """Alarms (every (feature, statistic) series, scored by the predictor) and days."""
    thresholds = parse_thresholds({"drift_thresholds": document}, FEATURES)
    stats = measure_statistics(FEATURES, reference, t, x, SIMULATION)
    rows = [assess_scores(FEATURES, tuple(p), tuple(k), thresholds, tail=tuple(q),
                          tail_symbol=tuple(r))
            for p, k, q, r in zip(stats.psi.tolist(), stats.ks_pvalue.tolist(),
                                  stats.tail.tolist(), stats.tail_symbol.tolist(),
                                  strict=True)]  # fmt: skip
    scores = np.array([[*r.psi, *r.ks, *r.tail, *r.tail_symbol] for r in rows])
    steps = int(SIMULATION.for_seconds // stats.stride) + 1
    alarms = sum(count_episodes(assess_persistent(scores[:, j], steps), 1.0)
                 for j in range(scores.shape[1]))  # fmt: skip
    return alarms, stats.ends.size * stats.stride / DAY


@pytest.mark.parametrize(
    ("rate", "days"),
    [(24.0, 1), pytest.param(4.0, 3, marks=pytest.mark.slow)],
)
def test_the_realised_false_alarm_rate_matches_the_target(rate: float, days: int) -> None:
    """Calibrated on ``days``, measured on 2 fresh days of the same healthy market. The target
    (24 a day over 1 day: 3 episodes per series; 4 a day over 3 days: 1.5 per series; both
    extrapolated from the peaks) bounds the sum over the 8 series (2 features x psi, ks, tail,
    tail_symbol); each series gets an eighth of it, so the expected count is rate x days, and
    the realised count must lie within its sampling error (3 sigma: the fresh days' Poisson
    error and the calibration's own). On 1 day the extrapolated threshold is too noisy to hold
    the rate (measured 28 alarms for 8)."""
    t, x = build_market(days * DAY, seed=11)
    reference = build_reference(t, x)
    calibration = calibrate_thresholds(
        FEATURES, reference, t, x, SIMULATION, false_alarms_per_day=rate
    )
    assert calibration.complete
    fresh_t, fresh_x = build_market(2 * DAY, seed=12)
    alarms, days = count_realised(fresh_t, fresh_x, reference, calibration.as_document())
    expected = rate * days
    sigma = math.sqrt(expected + expected**2 / (rate * days))  # fresh Poisson + calibration
    assert abs(alarms - expected) <= 3 * sigma, (alarms, expected)


def test_the_replay_measures_the_tail_share_the_predictor_measures() -> None:
    t, x = build_market(4 * 3600, seed=3)
    reference = build_reference(t, x)
    stats = measure_statistics(FEATURES, reference, t, x, WINDOWS)
    plan = DriftPlan(WINDOWS.min_rows, WINDOWS.thin_seconds)
    assert np.nanmax(stats.tail) > 0
    for i in (0, 100, stats.ends.size - 1):
        inside = (t > stats.ends[i] - WINDOWS.window_seconds) & (t <= stats.ends[i])
        sample = WindowSample(x[inside], t[inside].astype(float), np.ones(inside.sum(), np.int32))
        report = assess_drift(
            ScipyDriftDetector(), DriftReference(FEATURES, reference), sample, plan
        )
        assert report is not None
        assert report.tail == pytest.approx(tuple(stats.tail[i]), rel=1e-9)


def test_the_replay_measures_the_per_symbol_tail_share_the_predictor_measures() -> None:
    """Three symbols interleaved second by second (the trainer's rows), the third 3x as
    volatile from the middle on: the replay's per-symbol share is its most extreme symbol's,
    as the predictor's on the same window with a group per symbol, above the pooled share."""
    parts = [build_market(4 * 3600, seed=20 + k) for k in range(3)]
    parts[2][1][2 * 3600 :] *= 3.0
    t = np.repeat(parts[0][0], 3)
    x = np.stack([p[1] for p in parts], axis=1).reshape(-1, 2)
    symbols = np.tile(np.arange(3, dtype=np.int64), parts[0][0].size)
    reference = x[: 3 * 3600 * 2][::60]
    stats = measure_statistics(FEATURES, reference, t, x, WINDOWS, symbols=symbols)
    unknown = measure_statistics(FEATURES, reference, t, x, WINDOWS)  # no symbols: one group
    plan = DriftPlan(WINDOWS.min_rows, WINDOWS.thin_seconds)
    late = stats.ends > 3 * 3600
    assert np.array_equal(unknown.tail_symbol, stats.tail)
    assert (stats.tail_symbol >= stats.tail - 1e-12).all()
    assert stats.tail_symbol[late].mean() > 2.5 * stats.tail[late].mean()
    for i in (0, stats.ends.size // 2, stats.ends.size - 1):
        inside = (t > stats.ends[i] - WINDOWS.window_seconds) & (t <= stats.ends[i])
        groups = symbols[inside].astype(np.int32) + 1
        sample = WindowSample(x[inside], t[inside].astype(float), groups)
        report = assess_drift(
            ScipyDriftDetector(), DriftReference(FEATURES, reference), sample, plan
        )
        assert report is not None
        assert report.tail == pytest.approx(tuple(stats.tail[i]), rel=1e-9)
        assert report.tail_symbol == pytest.approx(tuple(stats.tail_symbol[i]), rel=1e-9)


def test_the_calibration_stores_a_tail_threshold_per_feature() -> None:
    t, x = build_market(DAY, seed=6)
    calibration = calibrate_thresholds(
        FEATURES, build_reference(t, x), t, x, SIMULATION, false_alarms_per_day=1.0
    )
    assert calibration.complete
    document = calibration.as_document()
    thresholds = parse_thresholds({"drift_thresholds": document}, FEATURES)
    assert thresholds.tail == tuple(document["features"][f]["tail"] for f in FEATURES)
    assert all(t >= TAIL_SHARE_FLOOR for t in thresholds.tail)


def test_a_short_period_gives_an_unreachable_ks_threshold_not_an_incomplete_one() -> None:
    """Two hours for a rate of 0.5 a day: the bound lies past any p-value (KS floored at
    1e-300), so the threshold is that floor, and the calibration stays complete."""
    t, x = build_market(7200, seed=5)
    windows = MonitoringWindows(600, 30, 10, 20, 60)
    calibration = calibrate_thresholds(
        FEATURES, build_reference(t, x), t, x, windows, false_alarms_per_day=0.5
    )
    assert calibration.complete
    assert min(calibration.ks_pvalue) >= 1e-300


def test_a_short_period_gives_psi_and_tail_thresholds_within_their_reach() -> None:
    """Two hours for a rate of 0.5 a day (as the KS case above): PSI and the tail shares are
    bounded, so each threshold lies under what a window can reach and a saturated window
    fires (the Pareto tail on the statistics themselves put them past it)."""
    t, x = build_market(7200, seed=5)
    reference = build_reference(t, x)
    windows = MonitoringWindows(600, 30, 10, 20, 60)
    calibration = calibrate_thresholds(FEATURES, reference, t, x, windows, false_alarms_per_day=0.5)
    for i in range(len(FEATURES)):
        assert calibration.psi[i] < assess_psi_reach(reference[:, i])
        assert calibration.tail[i] < 1.0
        assert calibration.tail_symbol[i] < 1.0

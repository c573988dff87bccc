"""The retraining-noise envelope: the window plan, and K retrains of a recipe on a market."""

from __future__ import annotations

import math

import numpy as np
import pytest

from levibot_common.stats.agreement import measure_envelope
from levibot_trainer.core.dataset import Rows, Split
from levibot_trainer.core.envelope import (
    WINDOW_SHARE,
    plan_retrain_windows,
    predict_retrains,
)
from levibot_trainer.core.model import build_estimator, fit_estimator
from levibot_trainer.pipeline import build_training_rows, plan_checked_split
from tests.trainer.support.data import make_settings, synthetic_closes


def market_rows() -> tuple[Rows, Split]:
    settings = make_settings(symbols=["BTCUSDT", "ETHUSDT"], data_window_seconds=7200)
    parts = [synthetic_closes(s, 7200, i, 0.3) for i, s in enumerate(settings.symbols)]
    rows = build_training_rows(parts, settings)
    return rows, plan_checked_split(rows, settings)


def test_windows_are_equal_shifted_and_span_the_training_period() -> None:
    t = np.repeat(np.arange(1000, 2000, dtype=np.int64), 2)  # two symbols a second
    train = t < 1900
    windows = plan_retrain_windows(t, train, 8)
    assert len(windows) == 8
    firsts = [int(t[w].min()) for w in windows]
    lasts = [int(t[w].max()) for w in windows]
    assert firsts[0] == 1000
    assert lasts[-1] == 1899
    assert firsts == sorted(firsts)
    assert len(set(firsts)) == 8
    assert {int(w.sum()) for w in windows} == {2 * round(900 * WINDOW_SHARE)}  # equal length
    assert not any((w & ~train).any() for w in windows)  # never a test or gap row


@pytest.mark.parametrize(("k", "share"), [(3, WINDOW_SHARE), (8, 0.0), (8, 1.5)])
def test_windows_refuse_too_few_retrains_or_a_bad_share(k: int, share: float) -> None:
    t = np.arange(100, dtype=np.int64)
    with pytest.raises(ValueError, match="envelope"):
        plan_retrain_windows(t, t < 80, k, share)


@pytest.mark.parametrize("calibration", ["none", "sigmoid"])
def test_envelope_of_retrains_on_a_market_is_positive_and_finite(calibration: str) -> None:
    rows, split = market_rows()
    recipe = build_estimator("logisticRegression", {}, calibration, 0)
    fitted = fit_estimator(recipe, rows.x[split.train], rows.y[split.train])
    windows = plan_retrain_windows(rows.t, split.train, 8)
    envelope = measure_envelope(
        predict_retrains(fitted, rows.x, rows.y, windows, rows.x[split.test])
    )
    assert envelope.k == 8
    assert envelope.n == int(split.test.sum())
    assert math.isfinite(envelope.rms)
    assert 0.0 < envelope.max_pairwise_rms <= 1.0
    assert envelope.rms == pytest.approx(2.0 * envelope.max_pairwise_rms)
    assert envelope.median_pairwise_rms <= envelope.max_pairwise_rms


def test_retrains_on_identical_data_do_not_disagree() -> None:
    rows, split = market_rows()
    recipe = build_estimator("logisticRegression", {}, "none", 0)
    windows = plan_retrain_windows(rows.t, split.train, 4, share=1.0)  # all the whole period
    envelope = measure_envelope(
        predict_retrains(recipe, rows.x, rows.y, windows, rows.x[split.test])
    )
    assert envelope.rms == pytest.approx(0.0, abs=1e-9)

"""Held-out metrics on worked examples."""

from __future__ import annotations

import numpy as np
import pytest

from levibot_trainer.core.metrics import ECE_BINS, assess_baseline, assess_ece, assess_scores


def test_ece_of_a_worked_example() -> None:
    # bin [0.2, 0.3): predicted 0.25 twice, observed 0.5 -> gap 0.25 over 2 of 4 rows
    # bin [0.9, 1.0]: predicted 1.0 twice, observed 1.0 -> gap 0
    y = np.array([0, 1, 1, 1])
    p = np.array([0.25, 0.25, 1.0, 1.0])
    assert assess_ece(y, p) == pytest.approx(0.125)
    assert ECE_BINS == 10


def test_perfectly_calibrated_bins_have_zero_ece() -> None:
    y = np.array([0, 1, 0, 1, 1, 1, 1, 0])
    p = np.array([0.5, 0.5, 0.5, 0.5, 0.75, 0.75, 0.75, 0.75])
    assert assess_ece(y, p) == pytest.approx(0.0)


def test_scores_of_good_and_baseline_predictions() -> None:
    y = np.array([0, 0, 1, 1])
    good = assess_scores(y, np.array([0.1, 0.2, 0.8, 0.9]))
    assert good.roc_auc == 1.0
    assert good.accuracy == 1.0
    assert good.brier == pytest.approx((0.01 + 0.04 + 0.04 + 0.01) / 4)
    assert good.log_loss == pytest.approx(-np.mean(np.log([0.9, 0.8, 0.8, 0.9])))
    base = assess_baseline(y, 0.5)
    assert base.roc_auc == 0.5
    assert base.log_loss == pytest.approx(np.log(2))
    assert base.ece == pytest.approx(0.0)


def test_extreme_probabilities_keep_log_loss_finite() -> None:
    scores = assess_scores(np.array([0, 1]), np.array([1.0, 0.0]))
    assert np.isfinite(scores.log_loss)
    assert scores.accuracy == 0.0

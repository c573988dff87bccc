"""Acceptance: no leakage. A pure random walk scores AUC ~0.5 on the held-out tail (averaged over
seeds); the generator's planted momentum is found. Pure CPU path, no database (the SQL path is
covered end to end elsewhere)."""

from __future__ import annotations

import numpy as np
import pytest

from levibot_trainer.core.dataset import Rows, Split
from levibot_trainer.pipeline import build_training_rows, fit_and_assess, plan_checked_split
from levibot_trainer.settings import TrainerSettings
from tests.trainer.support.data import make_settings, synthetic_closes

SECONDS = 8 * 3600
SEEDS = (1, 2, 3)


def held_out_auc(signal: float, seed: int, model_type: str) -> float:
    settings = make_settings(symbols=["BTCUSDT", "ETHUSDT"], model_type=model_type,
                             hyperparameters={"max_iter": 50} if model_type != "logisticRegression"
                             else {})  # fmt: skip
    parts = [synthetic_closes(s, SECONDS, seed, signal) for s in settings.symbols]
    rows = build_training_rows(parts, settings)
    split = plan_checked_split(rows, settings)
    return fitted_auc(rows, split, settings)


def fitted_auc(rows: Rows, split: Split, settings: TrainerSettings) -> float:
    return fit_and_assess(rows, split, settings).model.roc_auc


@pytest.mark.parametrize("model_type", ["logisticRegression", "histGradientBoosting"])
def test_random_walk_is_unpredictable_out_of_sample(model_type: str) -> None:
    aucs = [held_out_auc(0.0, seed, model_type) for seed in SEEDS]
    assert 0.45 <= float(np.mean(aucs)) <= 0.55, aucs


def test_planted_signal_is_found() -> None:
    aucs = [held_out_auc(0.1, seed, "logisticRegression") for seed in SEEDS]
    assert float(np.mean(aucs)) > 0.58, aucs


def test_a_leaky_split_would_be_caught_by_the_random_walk_check() -> None:
    """The check can fail: features that peek at the label give a high AUC on a random walk."""
    settings = make_settings(symbols=["BTCUSDT"])
    rows = build_training_rows([synthetic_closes("BTCUSDT", 4 * 3600, 1, 0.0)], settings)
    peeking = rows.x.copy()
    peeking[:, 0] = rows.y + np.random.default_rng(0).normal(0, 1.0, rows.size)
    leaky = Rows(rows.t, peeking, rows.y, 0, 0)
    split = plan_checked_split(leaky, settings)
    assert fitted_auc(leaky, split, settings) > 0.6

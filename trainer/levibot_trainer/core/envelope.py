"""The retraining-noise envelope of a recipe (trainer core): K retrains on shifted windows.

Stage 1 of a canary (``levibot_common.stats.agreement``) asks whether a candidate disagrees with
the stable more than two models trained by the same recipe disagree with each other. The
trainer answers the second half with each version: it fits the recipe (an unfitted clone of the
version's estimator: same type, hyperparameters, calibration and seed) ``K`` more times on
windows shifted through the training period, scores all of them on the version's held-out rows
(the walk-forward test split, never seen by any retrain), and keeps ``measure_envelope`` of the
``K x n`` p_up matrix: 2 x the largest pairwise RMS.

How the windows are shifted. Every retrain window has the same length, ``WINDOW_SHARE`` = 2/3 of
the training period, and the K starts are spread evenly from the first training second to the
last start that still fits, so the first window starts with the training data and the last ends
where training ends (``plan_retrain_windows``). Why windows and not a block bootstrap: a healthy
candidate is a retrain on a *shifted* window (the nightly retrain), so its disagreement with the
stable is estimation noise plus whatever the market did between the windows; shifted windows
measure both, a bootstrap of one window measures only the first (and its duplicated rows would
feed the time-series calibration folds repeated seconds). Why 2/3: the extreme pair's windows
overlap by half their length, a shift of half a window, and adjacent ones by 1/(K-1) of that,
so the K retrains span the shifts a retrain meets (1/7 of a 7-day window for a nightly retrain,
1/3 in ``bench/gate_error_rates.py``); the shorter windows also make each fit a little noisier
than a full-length one, which errs on the wide side. For a recipe whose noise is a mean over
its rows, a pair of 2/3 windows half overlapping disagrees like two full windows shifted by 3/4
of their length; the factor 2 covers the rest (disjoint windows included).
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, clone

from levibot_common.stats.agreement import MIN_RETRAINS
from levibot_trainer.core.model import fit_estimator, predict_up

WINDOW_SHARE = 2.0 / 3.0
"""Length of every retrain window, as a share of the training period."""


def plan_retrain_windows(
    t: NDArray[np.int64], train: NDArray[np.bool_], k: int, share: float = WINDOW_SHARE
) -> list[NDArray[np.bool_]]:
    """Row masks of ``k`` equal windows (``share`` of the training period, in seconds) whose
    starts are spread evenly: the first starts at the first training second, the last ends at
    the last one."""
    if k < MIN_RETRAINS or not 0.0 < share <= 1.0:
        raise ValueError(f"envelope: need k >= {MIN_RETRAINS} and 0 < share <= 1")
    if not train.any():
        raise ValueError("envelope: no training rows")
    first, last = int(t[train].min()), int(t[train].max()) + 1  # [first, last) seconds
    length = max(1, round((last - first) * share))
    starts = np.linspace(first, last - length, k).round().astype(np.int64)
    return [train & (t >= s) & (t < s + length) for s in starts]


def predict_retrains(
    recipe: BaseEstimator,
    x: NDArray[np.float64],
    y: NDArray[np.int64],
    windows: list[NDArray[np.bool_]],
    x_test: NDArray[np.float64],
    *,
    hyperparameters: Collection[str] = (),
) -> NDArray[np.float64]:
    """The ``K x n`` p_up of one fresh clone of ``recipe`` fitted on each window's rows, scored
    on ``x_test`` (the envelope's, and the trading noise's, retrains)."""
    rows = []
    for window in windows:
        fitted = fit_estimator(clone(recipe), x[window], y[window], hyperparameters)
        rows.append(predict_up(fitted, x_test))
    return np.vstack(rows)

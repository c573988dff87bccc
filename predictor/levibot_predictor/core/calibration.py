"""Calibration math (predictor core, pure): ECE, Brier score and accuracy over resolved predictions.

ECE uses 10 equal-width bins on [0, 1] (bin i holds p in [i/10, (i+1)/10), p = 1 in the last
bin) and weighs each bin's |mean(p) - mean(y)| by its share of samples — the trainer's
definition. No I/O: the monitor feeds it the rolling window it read from the prediction log.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

ECE_BINS = 10


@dataclass(frozen=True)
class CalibrationReport:
    """Rolling-window quality of one model version."""

    ece: float
    brier: float
    accuracy: float
    count: int


def assess_ece(
    p_up: NDArray[np.float64], outcome: NDArray[np.float64], bins: int = ECE_BINS
) -> float:
    """Expected calibration error with ``bins`` equal-width bins."""
    if p_up.size == 0:
        return 0.0
    index = np.minimum((p_up * bins).astype(np.int64), bins - 1)
    p_sums = np.bincount(index, weights=p_up, minlength=bins)
    y_sums = np.bincount(index, weights=outcome, minlength=bins)
    return float(np.sum(np.abs(p_sums - y_sums)) / p_up.size)


def assess_calibration(
    p_up: NDArray[np.float64], outcome: NDArray[np.float64]
) -> CalibrationReport:
    """ECE, Brier and accuracy (p_up ≥ 0.5 predicts up) of a resolved set."""
    if p_up.shape != outcome.shape:
        raise ValueError(f"p_up shape {p_up.shape} differs from outcome shape {outcome.shape}")
    if p_up.size == 0:
        return CalibrationReport(0.0, 0.0, 0.0, 0)
    brier = float(np.mean((p_up - outcome) ** 2))
    accuracy = float(np.mean((p_up >= 0.5) == (outcome >= 0.5)))
    return CalibrationReport(assess_ece(p_up, outcome), brier, accuracy, int(p_up.size))

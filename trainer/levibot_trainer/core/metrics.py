"""Held-out metrics (trainer core, pure): ROC AUC, log loss, Brier, ECE, accuracy.

ECE uses ``ECE_BINS`` = 10 equal-width bins of the predicted probability over [0, 1]: the
row-weighted mean of |mean predicted - observed frequency| per non-empty bin. The naive baseline
predicts the training base rate for every row (its AUC is 0.5 by construction).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import NDArray
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

ECE_BINS = 10
PROBABILITY_CLIP = 1e-15


@dataclass(frozen=True)
class Scores:
    """Quality of one set of probabilities on the held-out rows."""

    roc_auc: float
    log_loss: float
    brier: float
    ece: float
    accuracy: float

    def as_dict(self) -> dict[str, float]:
        """Plain dict for JSON."""
        return asdict(self)


def assess_ece(y: NDArray[np.int64], p: NDArray[np.float64], bins: int = ECE_BINS) -> float:
    """Expected calibration error over ``bins`` equal-width bins."""
    index = np.minimum((p * bins).astype(np.int64), bins - 1)
    counts = np.bincount(index, minlength=bins)
    predicted = np.bincount(index, weights=p, minlength=bins)
    observed = np.bincount(index, weights=y.astype(np.float64), minlength=bins)
    filled = counts > 0
    gaps = np.abs(predicted[filled] - observed[filled]) / counts[filled]
    return float(np.sum(gaps * counts[filled]) / y.size)


def assess_scores(y: NDArray[np.int64], p: NDArray[np.float64]) -> Scores:
    """All metrics of probabilities ``p`` against labels ``y`` (both classes must occur)."""
    clipped = np.clip(p, PROBABILITY_CLIP, 1.0 - PROBABILITY_CLIP)
    return Scores(
        roc_auc=float(roc_auc_score(y, p)),
        log_loss=float(log_loss(y, clipped, labels=[0, 1])),
        brier=float(brier_score_loss(y, p)),
        ece=assess_ece(y, p),
        accuracy=float(np.mean((p >= 0.5).astype(np.int64) == y)),
    )


def assess_baseline(y_test: NDArray[np.int64], base_rate: float) -> Scores:
    """Scores of the constant prediction ``base_rate``."""
    return assess_scores(y_test, np.full(y_test.size, base_rate))

"""Shadow scoring (predictor core): the partner version's p_up and signal for the served rows.

During a canary every predictor of the model also runs the other version of its shadow pair on
the rows it serves (one ``session.run`` per request); the answer stays its own version's, the
log row carries both. The partner may read its features in another order, or fewer of them:
``plan_shadow_columns`` maps our columns to its own once, at load. Signals follow the same
serving thresholds (``policy.decide_signal``). No I/O: the I/O layer loads the partner and
puts it in the ``ShadowSlot`` the service reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from levibot_predictor.core.policy import Signal, Thresholds, decide_signal
from levibot_predictor.core.runtime import ModelRuntime


class ShadowError(Exception):
    """The partner model gave no usable answer for a batch (wrong count, NaN/inf)."""


@dataclass(frozen=True)
class ShadowModel:
    """A loaded partner version and the columns of our matrix it reads (None: all, as they are)."""

    runtime: ModelRuntime
    columns: tuple[int, ...] | None

    @property
    def version(self) -> str:
        """The partner's version (the log's ``shadow_version``)."""
        return self.runtime.info.version


@dataclass(frozen=True)
class ShadowScores:
    """The partner's answers for the rows of one request."""

    version: str
    p_up: list[float]
    signals: list[Signal]


class ShadowSlot:
    """The partner currently scored in shadow, or None; written by the I/O poll only."""

    def __init__(self) -> None:
        self.current: ShadowModel | None = None


def plan_shadow_columns(ours: tuple[str, ...], partner: tuple[str, ...]) -> tuple[int, ...] | None:
    """Indexes of the partner's features in our columns; None when identical.

    ``ValueError`` naming the missing features when the partner needs one we do not have."""
    if ours == partner:
        return None
    missing = [name for name in partner if name not in ours]
    if missing:
        raise ValueError(f"partner features {missing} are not in this model's {list(ours)}")
    return tuple(ours.index(name) for name in partner)


def score_shadow(
    model: ShadowModel, matrix: NDArray[np.float32], thresholds: Thresholds
) -> ShadowScores:
    """The partner's p_up and signal for each row of our (n, k) matrix (``ShadowError``)."""
    rows = matrix if model.columns is None else np.ascontiguousarray(matrix[:, model.columns])
    p_up = model.runtime.predict_p_up(rows)
    if p_up.shape != (matrix.shape[0],) or not np.isfinite(np.add.reduce(p_up)):
        raise ShadowError(f"{model.version}: {p_up.shape[0]} values, not all finite")
    values = p_up.tolist()
    return ShadowScores(model.version, values, [decide_signal(p, thresholds) for p in values])

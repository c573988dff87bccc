"""Result values of the statistics core (shared core, pure): intervals, verdicts, assessments.

Every estimator in ``levibot_common.stats`` returns one of these frozen values, so a gate can show
the same fields for every check: the estimate, the interval bounds, the number of rows ``n``, the
effective number of independent observations ``n_eff`` (time blocks), the verdict and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


class Verdict(StrEnum):
    """What a check concludes.

    Non-inferiority and calibration use ``pass`` / ``fail`` / ``inconclusive``; the label-free
    agreement check uses ``equivalent`` / ``different`` / ``inconclusive``. ``waiting`` means the
    check has too few blocks to say anything yet (it must not count as inconclusive).
    """

    PASS = "pass"  # noqa: S105 (a verdict, not a password)
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    EQUIVALENT = "equivalent"
    DIFFERENT = "different"
    WAITING = "waiting"


@dataclass(frozen=True)
class Interval:
    """A point estimate with a two-sided interval; ``n`` values went into it (rows or blocks)."""

    estimate: float
    lower: float
    upper: float
    n: int


@dataclass(frozen=True)
class Assessment:
    """A check's verdict with its evidence.

    ``threshold`` is what the bounds were compared with (a tolerance or an envelope); ``n`` counts
    rows, ``n_eff`` counts non-empty time blocks (the independent-ish units the interval uses).
    """

    estimate: float
    lower: float
    upper: float
    threshold: float
    n: int
    n_eff: int
    verdict: Verdict
    reason: str

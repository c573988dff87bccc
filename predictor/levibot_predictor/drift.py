"""Drift math (pure): per-feature KS p-value and PSI of recent rows against a reference sample.

PSI uses 10 quantile bins cut on the reference (so each holds ~10 % of it), both histograms
smoothed by ``PSI_EPSILON`` before the log ratio. KS is scipy's two-sample test. The detector
interface lets alibi-detect (BSL-licensed, numpy<2, so optional and import-guarded) stand in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray
from scipy import stats

PSI_BINS = 10
PSI_EPSILON = 1e-4


@dataclass(frozen=True)
class DriftReport:
    """One value per feature, in the reference's feature order."""

    features: tuple[str, ...]
    psi: tuple[float, ...]
    ks_pvalue: tuple[float, ...]


class DriftDetector(Protocol):
    """Compares a (n, k) current sample with a (m, k) reference, column by column."""

    def assess(
        self,
        features: tuple[str, ...],
        reference: NDArray[np.float64],
        current: NDArray[np.float64],
    ) -> DriftReport: ...


def assess_psi(reference: NDArray[np.float64], current: NDArray[np.float64]) -> float:
    """Population stability index of one feature, quantile bins from the reference."""
    inner = np.unique(np.quantile(reference, np.linspace(0, 1, PSI_BINS + 1)[1:-1]))
    ref_share = np.bincount(
        np.searchsorted(inner, reference, side="right"), minlength=inner.size + 1
    )
    cur_share = np.bincount(np.searchsorted(inner, current, side="right"), minlength=inner.size + 1)
    ref_p = ref_share / reference.size + PSI_EPSILON
    cur_p = cur_share / current.size + PSI_EPSILON
    return float(np.sum((cur_p - ref_p) * np.log(cur_p / ref_p)))


def assess_ks_pvalue(reference: NDArray[np.float64], current: NDArray[np.float64]) -> float:
    """Two-sample Kolmogorov-Smirnov p-value of one feature."""
    return float(stats.ks_2samp(reference, current).pvalue)


class ScipyDriftDetector:
    """The default detector: our PSI and scipy's KS."""

    def assess(
        self,
        features: tuple[str, ...],
        reference: NDArray[np.float64],
        current: NDArray[np.float64],
    ) -> DriftReport:
        """Per-feature PSI and KS p-value."""
        _check_shapes(features, reference, current)
        columns = range(len(features))
        psi = tuple(assess_psi(reference[:, i], current[:, i]) for i in columns)
        ks = tuple(assess_ks_pvalue(reference[:, i], current[:, i]) for i in columns)
        return DriftReport(features, psi, ks)


class AlibiDriftDetector:
    """KS p-values from alibi-detect's KSDrift (optional extra ``levibot[alibi]``); our PSI."""

    def __init__(self) -> None:
        try:
            from alibi_detect.cd import KSDrift  # noqa: PLC0415 - optional, BSL-licensed
        except ImportError as exc:
            raise RuntimeError(
                "alibi-detect is not installed (pip install levibot[alibi])"
            ) from exc
        self._ks_drift = KSDrift

    def assess(
        self,
        features: tuple[str, ...],
        reference: NDArray[np.float64],
        current: NDArray[np.float64],
    ) -> DriftReport:
        """Per-feature PSI (ours) and KS p-value (alibi-detect)."""
        _check_shapes(features, reference, current)
        detector = self._ks_drift(reference.astype(np.float32), p_val=0.05)
        result = detector.predict(current.astype(np.float32), return_p_val=True)
        ks = tuple(float(p) for p in result["data"]["p_val"])
        psi = tuple(assess_psi(reference[:, i], current[:, i]) for i in range(len(features)))
        return DriftReport(features, psi, ks)


def _check_shapes(
    features: tuple[str, ...], reference: NDArray[np.float64], current: NDArray[np.float64]
) -> None:
    width = len(features)
    if reference.ndim != 2 or reference.shape[1] != width or reference.shape[0] == 0:
        raise ValueError(f"reference: expected shape (m>0, {width}), got {reference.shape}")
    if current.ndim != 2 or current.shape[1] != width or current.shape[0] == 0:
        raise ValueError(f"current: expected shape (n>0, {width}), got {current.shape}")

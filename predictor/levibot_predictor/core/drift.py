"""Drift math (predictor core, pure): per-feature KS p-value, PSI and tail share of recent rows.

PSI uses 10 quantile bins cut on the reference (so each holds ~10 % of it), both histograms
smoothed by ``PSI_EPSILON`` before the log ratio. KS is scipy's two-sample test. The detector
interface lets alibi-detect (BSL-licensed, numpy<2, so optional and import-guarded) stand in.

Which rows: the KS test assumes independent samples, but one-second feature rows of a market
are strongly autocorrelated (ret_5m and vol_5m share 299 of their 300 returns with the next
second's), so a KS p-value over every second is meaningless: it rejects on healthy data. KS
therefore runs on a *thinned* sample, one row per ``thin_seconds`` (default 60, the lookback
of the 1-minute features) per symbol, and one per ``FEATURE_SPAN_SECONDS`` for the 5-minute
features (measured on a per-second random walk: thinned to 60 s, ret_5m still rejected 57 % of
healthy windows at p < 0.05; thinned to its 300-s span, 5 %), chosen by ``plan_thinning``;
rows sent by clients
(``/v1/predict``, no market timestamp, group 0) are taken as they come. PSI is a distance, not
a test: it runs on every deduplicated row, whose histogram is a steadier estimate than the
thinned one's (measured in ``bench/predictor_drift.py``). The trainer thins its reference
sample the same way (one row per symbol and minute of its data window). The tail share (rows
beyond the reference's 0.5 %/99.5 % quantiles, ``levibot_common.drift``) runs on every row, as
PSI does, over the whole window (``tail``) and in its most extreme symbol (``tail_symbol``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from levibot_common.drift import (
    FEATURE_SPAN_SECONDS,
    PSI_BINS,
    PSI_EPSILON,
    assess_ks_pvalue,
    assess_psi,
    assess_tail_share,
    assess_tail_shares,
    plan_thinning,
)

__all__ = [
    "FEATURE_SPAN_SECONDS", "PSI_BINS", "PSI_EPSILON", "assess_ks_pvalue", "assess_psi",
    "assess_tail_share", "plan_thinning",
]  # fmt: skip
Columns = Sequence[NDArray[np.float64]]  # one 1-D sample per feature


@dataclass(frozen=True)
class DriftReport:
    """One value per feature, in the reference's feature order (``tail``, ``tail_symbol``
    empty: not measured)."""

    features: tuple[str, ...]
    psi: tuple[float, ...]
    ks_pvalue: tuple[float, ...]
    tail: tuple[float, ...] = ()
    tail_symbol: tuple[float, ...] = ()


class DriftDetector(Protocol):
    """Compares a (n, k) current sample with a (m, k) reference, column by column: PSI on
    ``current``, KS on ``thinned`` (per feature, its effectively independent values; default
    the columns of ``current``), the tail share over ``current`` and in its most extreme group
    (``groups``: one per row, a group per symbol; None: one group)."""

    def assess(
        self,
        features: tuple[str, ...],
        reference: NDArray[np.float64],
        current: NDArray[np.float64],
        thinned: Columns | None = None,
        groups: NDArray[np.int32] | None = None,
    ) -> DriftReport: ...


def build_report(
    features: tuple[str, ...],
    reference: NDArray[np.float64],
    current: NDArray[np.float64],
    thinned: Columns | None,
    ks_pvalue: Callable[[NDArray[np.float64], NDArray[np.float64]], float],
    *,
    groups: NDArray[np.int32] | None = None,
) -> DriftReport:
    """Per-feature PSI and tail shares (ours, on ``current``: pooled, and in the most extreme
    of ``groups``) and KS p-value (``ks_pvalue``, on ``thinned``)."""
    columns = _check_shapes(features, reference, current, thinned)
    if groups is not None and groups.shape != (current.shape[0],):
        raise ValueError(f"groups: expected shape ({current.shape[0]},), got {groups.shape}")
    psi = tuple(assess_psi(reference[:, i], current[:, i]) for i in range(len(features)))
    ks = tuple(ks_pvalue(reference[:, i], c) for i, c in enumerate(columns))
    one = np.zeros(current.shape[0], dtype=np.int32) if groups is None else groups
    shares = [assess_tail_shares(reference[:, i], current[:, i], one) for i in range(len(features))]
    tail, tail_symbol = (tuple(s[k] for s in shares) for k in (0, 1))
    return DriftReport(features, psi, ks, tail, tail_symbol)


class ScipyDriftDetector:
    """The default detector: our PSI and scipy's KS (a subclass swaps the KS: ``_ks_pvalue``)."""

    def assess(
        self,
        features: tuple[str, ...],
        reference: NDArray[np.float64],
        current: NDArray[np.float64],
        thinned: Columns | None = None,
        groups: NDArray[np.int32] | None = None,
    ) -> DriftReport:
        """Per-feature PSI and tail share (on ``current``) and KS p-value (on ``thinned``)."""
        return build_report(features, reference, current, thinned, self._ks_pvalue, groups=groups)

    def _ks_pvalue(self, reference: NDArray[np.float64], current: NDArray[np.float64]) -> float:
        return assess_ks_pvalue(reference, current)


class AlibiDriftDetector(ScipyDriftDetector):
    """KS p-values from alibi-detect's KSDrift (optional extra ``levibot[alibi]``); our PSI."""

    def __init__(self) -> None:
        try:
            from alibi_detect.cd import KSDrift  # noqa: PLC0415 - optional, BSL-licensed
        except ImportError as exc:
            raise RuntimeError(
                "alibi-detect is not installed (pip install levibot[alibi])"
            ) from exc
        self._ks_drift = KSDrift

    def _ks_pvalue(self, reference: NDArray[np.float64], current: NDArray[np.float64]) -> float:
        detector = self._ks_drift(reference.astype(np.float32)[:, None], p_val=0.05)
        result = detector.predict(current.astype(np.float32)[:, None], return_p_val=True)
        return float(result["data"]["p_val"][0])


def _check_shapes(
    features: tuple[str, ...],
    reference: NDArray[np.float64],
    current: NDArray[np.float64],
    thinned: Columns | None,
) -> Columns:
    """The KS columns (``thinned``, or the columns of ``current``), every shape checked."""
    width = len(features)
    for name, sample in (("reference", reference), ("current", current)):
        if sample.ndim != 2 or sample.shape[1] != width or sample.shape[0] == 0:
            raise ValueError(f"{name}: expected shape (n>0, {width}), got {sample.shape}")
    columns = [current[:, i] for i in range(width)] if thinned is None else list(thinned)
    if len(columns) != width or any(c.ndim != 1 or c.size == 0 for c in columns):
        raise ValueError(f"thinned: expected {width} non-empty 1-D samples")
    return columns

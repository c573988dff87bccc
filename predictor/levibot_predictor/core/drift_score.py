"""Drift scores (predictor core, pure): each feature's statistic over its calibrated threshold.

The trainer calibrates, per feature, the PSI and the KS p-value that the training period's own
healthy windows exceed at the target false-alarm rate, with the alert's persistence accounted
for (``levibot_trainer.core.drift_calibration``), and stores them with the version
(``metrics.drift_thresholds`` in the registry). The score is the statistic over that threshold:

- psi: PSI / psi threshold;
- ks: log(p) / log(p threshold), i.e. -log p over -log p threshold (p floored at 1e-300);
- tail: the share of the window beyond the reference's extreme quantiles / tail threshold
  (only for versions whose calibration has tail thresholds: the others export psi and ks);
- tail_symbol: the same share in the window's most extreme symbol / its threshold (only for
  versions calibrated with one).

So a score above 1 reads the same for every feature, statistic, window and time scale: this
window is further from the reference than the healthy windows of the training period get, more
often than the target rate allows. A version registered before calibration existed has no
thresholds: it falls back to the fixed ones the chart used (PSI 0.25, KS p 0.05), flagged
``calibrated=False`` so the predictor can say so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

FIXED_PSI_THRESHOLD = 0.25  # the chart's former psiCritical
FIXED_KS_PVALUE = 0.05  # the chart's former ksPValue
KS_PVALUE_FLOOR = 1e-300
THRESHOLDS_KEY = "drift_thresholds"  # in the registry's metrics document


@dataclass(frozen=True)
class DriftThresholds:
    """Per feature (the model's order) a PSI, a KS p-value and tail share thresholds (``tail``,
    ``tail_symbol`` empty: the version has none, no such score)."""

    features: tuple[str, ...]
    psi: tuple[float, ...]
    ks_pvalue: tuple[float, ...]
    calibrated: bool
    monitoring: Mapping[str, float]  # the windows they were calibrated for ({} when fixed)
    tail: tuple[float, ...] = ()
    tail_symbol: tuple[float, ...] = ()


@dataclass(frozen=True)
class DriftScores:
    """One score per feature and statistic, in the thresholds' feature order (``tail``,
    ``tail_symbol`` empty: no such score)."""

    features: tuple[str, ...]
    psi: tuple[float, ...]
    ks: tuple[float, ...]
    tail: tuple[float, ...] = ()
    tail_symbol: tuple[float, ...] = ()


def build_fixed_thresholds(features: tuple[str, ...]) -> DriftThresholds:
    """The fallback of a version without calibration: the chart's former fixed thresholds."""
    n = len(features)
    return DriftThresholds(
        features, (FIXED_PSI_THRESHOLD,) * n, (FIXED_KS_PVALUE,) * n, calibrated=False,
        monitoring={},
    )  # fmt: skip


def parse_thresholds(metrics: Mapping[str, Any], features: tuple[str, ...]) -> DriftThresholds:
    """The calibrated thresholds of ``features`` from a version's metrics document, or the
    fixed ones when it has none; ``ValueError`` naming the field when they are malformed."""
    document = metrics.get(THRESHOLDS_KEY)
    if document is None:
        return build_fixed_thresholds(features)
    per_feature = document.get("features") if isinstance(document, Mapping) else None
    if not isinstance(per_feature, Mapping):
        raise ValueError(f"metrics.{THRESHOLDS_KEY}.features: expected a mapping")
    psi, ks, tail, tail_symbol = [], [], [], []
    with_tail = _has_statistic(per_feature, features, "tail")
    with_symbol = _has_statistic(per_feature, features, "tail_symbol")
    for name in features:
        entry = per_feature.get(name)
        path = f"metrics.{THRESHOLDS_KEY}.features.{name}"
        if not isinstance(entry, Mapping):
            raise ValueError(f"{path}: missing")
        psi.append(_read_positive(entry, "psi", path, upper=math.inf))
        ks.append(_read_positive(entry, "ks_pvalue", path, upper=1.0))
        if with_tail:
            tail.append(_read_positive(entry, "tail", path, upper=math.inf))
        if with_symbol:
            tail_symbol.append(_read_positive(entry, "tail_symbol", path, upper=math.inf))
    monitoring = document.get("monitoring", {})
    return DriftThresholds(
        features, tuple(psi), tuple(ks), True, dict(monitoring), tail=tuple(tail),
        tail_symbol=tuple(tail_symbol),
    )  # fmt: skip


def _has_statistic(per_feature: Mapping[str, Any], features: tuple[str, ...], key: str) -> bool:
    """Whether the calibration has ``key`` thresholds (one feature with one: all must have it:
    the statistics came later than psi and ks)."""
    return any(isinstance(per_feature.get(n), Mapping) and key in per_feature[n]
               for n in features)  # fmt: skip


def _read_positive(entry: Mapping[str, Any], key: str, path: str, upper: float) -> float:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{path}.{key}: expected a number, got {value!r}")
    if not 0.0 < float(value) < upper:
        raise ValueError(f"{path}.{key}: expected 0 < value < {upper}, got {value!r}")
    return float(value)


def assess_ks_score(pvalue: float, threshold: float) -> float:
    """-log p over -log threshold: 1 at the threshold, above 1 for smaller p-values."""
    return math.log(max(pvalue, KS_PVALUE_FLOOR)) / math.log(threshold)


def assess_scores(
    features: tuple[str, ...],
    psi: tuple[float, ...],
    ks_pvalue: tuple[float, ...],
    thresholds: DriftThresholds,
    *,
    tail: tuple[float, ...] = (),
    tail_symbol: tuple[float, ...] = (),
) -> DriftScores:
    """Each feature's PSI, KS and tail scores against ``thresholds`` (the same feature order);
    a tail score only when both the report's shares and the thresholds are there."""
    if features != thresholds.features:
        raise ValueError(f"thresholds: features {thresholds.features} != report {features}")
    return DriftScores(
        features,
        tuple(v / t for v, t in zip(psi, thresholds.psi, strict=True)),
        tuple(assess_ks_score(p, t) for p, t in zip(ks_pvalue, thresholds.ks_pvalue, strict=True)),
        assess_share_scores(tail, thresholds.tail),
        assess_share_scores(tail_symbol, thresholds.tail_symbol),
    )


def assess_share_scores(
    shares: tuple[float, ...], thresholds: tuple[float, ...]
) -> tuple[float, ...]:
    """Each share over its threshold; empty when either is."""
    if not shares or not thresholds:
        return ()
    return tuple(v / t for v, t in zip(shares, thresholds, strict=True))


def check_monitoring(thresholds: DriftThresholds, serving: Mapping[str, float]) -> list[str]:
    """The monitoring settings that differ from those the thresholds were calibrated for
    (``key: calibrated -> serving``); empty when they agree or the thresholds are fixed."""
    return [
        f"{key}: {thresholds.monitoring[key]:g} -> {value:g}"
        for key, value in serving.items()
        if key in thresholds.monitoring and float(thresholds.monitoring[key]) != float(value)
    ]

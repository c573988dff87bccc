"""Background loops of one predictor (predictor I/O), started and stopped by the app's lifespan.

tick loop: kill-switch file poll + feature cache refresh, at tick cadence.
monitor loop: resolve outcomes, read the rolling window, recompute drift; export gauges (the
PSI/KS series are removed while the window holds too few rows: absent means inconclusive).
Every loop survives failures of its dependencies: it logs, marks, and tries again next time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from levibot_predictor.core.calibration import CalibrationReport
from levibot_predictor.core.drift import DriftDetector, DriftReport
from levibot_predictor.core.drift_score import (
    DriftThresholds,
    assess_scores,
    build_fixed_thresholds,
)
from levibot_predictor.core.policy import assess_staleness
from levibot_predictor.core.window import DriftPlan, DriftReference, RowWindow, assess_drift
from levibot_predictor.io.database import Database, DatabaseUnavailableError
from levibot_predictor.io.killswitch import KillSwitch
from levibot_predictor.io.marketcache import MarketCache
from levibot_predictor.io.metrics import PredictorMetrics
from levibot_predictor.io.outcomes import VersionKey, apply_resolution, fetch_calibration
from levibot_predictor.io.track import TrackFile

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MonitorConfig:
    """What the monitor loop compares and how much of it."""

    key: VersionKey
    outcome_window: int
    drift_min_rows: int
    reference: DriftReference | None
    detector: DriftDetector
    drift_thin_seconds: float = 60.0

    @property
    def drift_plan(self) -> DriftPlan:
        """The thinning and the row gate of the drift check."""
        return DriftPlan(self.drift_min_rows, self.drift_thin_seconds)


@dataclass(frozen=True)
class LoopParts:
    """What the loops read and feed: the service's stateful parts, never the service itself."""

    kill_switch: KillSwitch
    cache: MarketCache
    window: RowWindow
    metrics: PredictorMetrics
    track: TrackFile | None = None


async def run_tick(parts: LoopParts, database: Database | None, now: float) -> None:
    """One tick: poll the kill-switch and the track, refresh the cache, export staleness and
    tick rates."""
    if parts.track is not None:
        parts.track.poll()
    parts.kill_switch.poll()
    parts.metrics.set_kill_switch(parts.kill_switch.on)
    await parts.cache.refresh_all(database, now)
    for symbol, cache in parts.cache.symbols.items():
        staleness = assess_staleness(cache.state.last_tick, now)
        parts.metrics.set_symbol(symbol, staleness, cache.ticks_per_minute)


async def run_monitor(
    parts: LoopParts, database: Database | None, config: MonitorConfig, now: float
) -> None:
    """One monitor pass: outcomes and calibration (needs the database), then drift."""
    if database is not None:
        try:
            async with database.connection() as conn:
                await apply_resolution(conn, config.key, now)
                report = await fetch_calibration(conn, config.key, config.outcome_window)
            export_calibration(parts.metrics, report)
        except DatabaseUnavailableError as exc:
            log.warning("monitor: database unavailable: %s", exc)
    if config.reference is not None:
        sample = parts.window.select(now)
        drift = assess_drift(config.detector, config.reference, sample, config.drift_plan)
        if drift is None:
            clear_drift(parts.metrics, config.reference.features)
        else:
            export_drift(parts.metrics, drift)
            export_drift_scores(parts.metrics, drift, config.reference.thresholds)


def export_calibration(metrics: PredictorMetrics, report: CalibrationReport) -> None:
    """Set the ECE, Brier, accuracy and resolved-count gauges."""
    base = metrics.base
    metrics.resolved.labels(*base).set(report.count)
    if report.count:
        metrics.ece.labels(*base).set(report.ece)
        metrics.brier.labels(*base).set(report.brier)
        metrics.accuracy.labels(*base).set(report.accuracy)


def export_drift(metrics: PredictorMetrics, report: DriftReport) -> None:
    """Set the per-feature PSI and KS p-value gauges."""
    base = metrics.base
    for name, psi, ks in zip(report.features, report.psi, report.ks_pvalue, strict=True):
        metrics.psi.labels(*base, name).set(psi)
        metrics.ks_pvalue.labels(*base, name).set(ks)


def export_drift_scores(
    metrics: PredictorMetrics, report: DriftReport, thresholds: DriftThresholds | None
) -> None:
    """Set the per-feature drift scores (statistic over threshold) and whether the thresholds
    are the version's calibrated ones (else the fixed fallback)."""
    limits = thresholds or build_fixed_thresholds(report.features)
    scores = assess_scores(report.features, report.psi, report.ks_pvalue, limits,
                           tail=report.tail, tail_symbol=report.tail_symbol)  # fmt: skip
    base = metrics.base
    metrics.drift_calibrated.labels(*base).set(1.0 if limits.calibrated else 0.0)
    for name, psi, ks in zip(scores.features, scores.psi, scores.ks, strict=True):
        metrics.drift_score.labels(*base, name, "psi").set(psi)
        metrics.drift_score.labels(*base, name, "ks").set(ks)
    for statistic, values in (("tail", scores.tail), ("tail_symbol", scores.tail_symbol)):
        for name, value in zip(scores.features, values, strict=False):  # empty: no such score
            metrics.drift_score.labels(*base, name, statistic).set(value)


def clear_drift(metrics: PredictorMetrics, features: tuple[str, ...]) -> None:
    """Remove the PSI, KS and score series: too few rows is "no value" (absent), not a value."""
    base = metrics.base
    for name in features:
        for gauge in (metrics.psi, metrics.ks_pvalue):
            with contextlib.suppress(KeyError):  # never set, or already removed
                gauge.remove(*base, name)
        for statistic in ("psi", "ks", "tail", "tail_symbol"):
            with contextlib.suppress(KeyError):
                metrics.drift_score.remove(*base, name, statistic)


async def run_every(interval: float, step: Callable[[], object], name: str) -> None:
    """Await ``step()`` every ``interval`` seconds forever; a failing step is logged, not fatal."""
    while True:
        try:
            result = step()
            if asyncio.iscoroutine(result):
                await result
        except Exception:  # a monitor must outlive any one bad pass
            log.exception("%s: step failed", name)
        await asyncio.sleep(interval)

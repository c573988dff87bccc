"""Background loops of one predictor (I/O shell), started and stopped by the app's lifespan.

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

from levibot_predictor.calibration import CalibrationReport
from levibot_predictor.database import Database, DatabaseUnavailableError
from levibot_predictor.drift import DriftDetector, DriftReport
from levibot_predictor.monitor import (
    DriftPlan,
    DriftReference,
    VersionKey,
    apply_resolution,
    assess_drift,
    fetch_calibration,
)
from levibot_predictor.policy import assess_staleness
from levibot_predictor.service import PredictionService

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


async def run_tick(service: PredictionService, database: Database | None, now: float) -> None:
    """One tick: poll the kill-switch, refresh the cache, export staleness and tick rates."""
    service.kill_switch.poll()
    service.metrics.set_kill_switch(service.kill_switch.on)
    await service.cache.refresh_all(database, now)
    for symbol, cache in service.cache.symbols.items():
        staleness = assess_staleness(cache.state.last_tick, now)
        service.metrics.set_symbol(symbol, staleness, cache.ticks_per_minute)


async def run_monitor(
    service: PredictionService, database: Database | None, config: MonitorConfig, now: float
) -> None:
    """One monitor pass: outcomes and calibration (needs the database), then drift."""
    if database is not None:
        try:
            async with database.connection() as conn:
                await apply_resolution(conn, config.key, now)
                report = await fetch_calibration(conn, config.key, config.outcome_window)
            export_calibration(service, report)
        except DatabaseUnavailableError as exc:
            log.warning("monitor: database unavailable: %s", exc)
    if config.reference is not None:
        sample = service.window.select(now)
        drift = assess_drift(config.detector, config.reference, sample, config.drift_plan)
        if drift is None:
            clear_drift(service, config.reference.features)
        else:
            export_drift(service, drift)


def export_calibration(service: PredictionService, report: CalibrationReport) -> None:
    """Set the ECE, Brier, accuracy and resolved-count gauges."""
    metrics, base = service.metrics, service.metrics.base
    metrics.resolved.labels(*base).set(report.count)
    if report.count:
        metrics.ece.labels(*base).set(report.ece)
        metrics.brier.labels(*base).set(report.brier)
        metrics.accuracy.labels(*base).set(report.accuracy)


def export_drift(service: PredictionService, report: DriftReport) -> None:
    """Set the per-feature PSI and KS p-value gauges."""
    metrics, base = service.metrics, service.metrics.base
    for name, psi, ks in zip(report.features, report.psi, report.ks_pvalue, strict=True):
        metrics.psi.labels(*base, name).set(psi)
        metrics.ks_pvalue.labels(*base, name).set(ks)


def clear_drift(service: PredictionService, features: tuple[str, ...]) -> None:
    """Remove the PSI and KS series: too few rows is "no value" (absent), not a value."""
    metrics, base = service.metrics, service.metrics.base
    for name in features:
        for gauge in (metrics.psi, metrics.ks_pvalue):
            with contextlib.suppress(KeyError):  # never set, or already removed
                gauge.remove(*base, name)


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

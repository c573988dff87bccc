"""One training run (trainer run layer): connect → check → load → features → split → fit →
metrics → backtest → ONNX → parity → retraining-noise envelope → register. Time, sleep and the
stage timer come in from ``cli``.

CPU stages are plain functions over values (``build_training_rows``, ``fit_and_assess``,
``export_and_check``, ``measure_fitted_envelope``) so the benchmark can time them one by one;
``run_training`` adds the I/O.
Nothing is written to the registry unless every check passed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator

from levibot_common.features import lookback_seconds
from levibot_common.registry import (
    DriftReference,
    VersionConflictError,
    fetch_version,
    fetch_version_exists,
    register_version,
)
from levibot_common.schema import apply_schema
from levibot_common.stats.agreement import Envelope, measure_envelope
from levibot_common.stats.blocks import plan_block_seconds
from levibot_common.trading import Costs
from levibot_trainer.core.backtest import Backtest, TradingPolicy, assess_backtest
from levibot_trainer.core.dataset import (
    Rows,
    Split,
    build_reference_sample,
    build_rows,
    build_symbol_rows,
    plan_split,
)
from levibot_trainer.core.drift_calibration import (
    Calibration,
    MonitoringWindows,
    calibrate_thresholds,
)
from levibot_trainer.core.envelope import plan_retrain_windows, predict_retrains
from levibot_trainer.core.export import (
    ParityReport,
    assess_parity,
    build_onnx,
    build_session,
    check_parity,
    predict_onnx,
)
from levibot_trainer.core.metrics import Scores, assess_baseline, assess_scores
from levibot_trainer.core.model import build_estimator, fit_estimator, predict_up
from levibot_trainer.core.trading_noise import RetrainNoise, measure_retrain_noise
from levibot_trainer.errors import DatabaseUnreachableError, InsufficientDataError
from levibot_trainer.io.market import Sleep, SymbolCloses, fetch_connection, fetch_training_closes
from levibot_trainer.report import (
    TrainingFacts,
    build_counts,
    build_existing,
    build_metadata,
    build_metrics,
    build_success,
)
from levibot_trainer.settings import TrainerSettings


@dataclass
class StageTimer:
    """Wall time per named stage (the one mutable helper of the shell)."""

    clock: Callable[[], float]
    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block under ``name``."""
        began = self.clock()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + self.clock() - began


@dataclass(frozen=True)
class Fitted:
    """A fitted estimator with its held-out predictions and scores."""

    estimator: BaseEstimator
    x_test: NDArray[np.float64]
    p_test: NDArray[np.float64]
    base_rate: float
    model: Scores
    baseline: Scores


def build_training_rows(parts: Sequence[SymbolCloses], settings: TrainerSettings) -> Rows:
    """Features and labels of every symbol, time-ordered."""
    per_symbol = [
        build_symbol_rows(p.seconds, p.closes, settings.features, settings.horizon_seconds)
        for p in parts
    ]
    return build_rows(per_symbol, len(settings.features))


def plan_checked_split(rows: Rows, settings: TrainerSettings) -> Split:
    """The time split; ``InsufficientDataError`` when either side is too small."""
    split = plan_split(rows.t, settings.test_fraction, settings.effective_gap_seconds)
    train, test = int(split.train.sum()), int(split.test.sum())
    if train < settings.min_train_rows or test < settings.min_test_rows:
        raise InsufficientDataError(
            f"data_window_seconds: {rows.size} usable rows give {train} train / {test} test rows; "
            f"need at least {settings.min_train_rows} / {settings.min_test_rows} "
            f"({rows.dropped_incomplete} dropped for incomplete windows, "
            f"{rows.dropped_unlabelled} without a label)"
        )
    if np.unique(rows.y[split.test]).size < 2:
        raise InsufficientDataError("labels: the test rows hold a single class")
    return split


def fit_and_assess(rows: Rows, split: Split, settings: TrainerSettings) -> Fitted:
    """Fit on the train rows; score model and baseline on the test rows."""
    estimator = build_estimator(
        settings.model_type, settings.hyperparameters, settings.calibration, settings.random_seed
    )
    fitted = fit_estimator(
        estimator, rows.x[split.train], rows.y[split.train], settings.hyperparameters
    )
    x_test, y_test = rows.x[split.test], rows.y[split.test]
    p_test = predict_up(fitted, x_test)
    base_rate = float(rows.y[split.train].mean())
    scores = assess_scores(y_test, p_test)
    return Fitted(fitted, x_test, p_test, base_rate, scores, assess_baseline(y_test, base_rate))


def export_and_check(fitted: Fitted, settings: TrainerSettings) -> tuple[bytes, ParityReport]:
    """ONNX bytes and their parity report; ``ParityError`` when outside the tolerance."""
    onnx = build_onnx(fitted.estimator, len(settings.features))
    actual = predict_onnx(build_session(onnx), fitted.x_test)
    return onnx, check_parity(assess_parity(fitted.p_test, actual, settings.parity_tolerance))


def predict_fitted_retrains(
    rows: Rows, split: Split, fitted: Fitted, settings: TrainerSettings
) -> NDArray[np.float64]:
    """``envelope_retrains`` clones of the fitted estimator's recipe on shifted windows of the
    train rows, scored on the same test rows (``K x n`` p_up)."""
    windows = plan_retrain_windows(rows.t, split.train, settings.envelope_retrains)
    return predict_retrains(
        fitted.estimator, rows.x, rows.y, windows, fitted.x_test,
        hyperparameters=settings.hyperparameters,
    )  # fmt: skip


def measure_fitted_envelope(
    rows: Rows, split: Split, fitted: Fitted, settings: TrainerSettings,
    retrains: NDArray[np.float64] | None = None,
) -> Envelope:  # fmt: skip
    """The recipe's retraining-noise envelope of the retrains (``predict_fitted_retrains``,
    computed here unless given)."""
    found = predict_fitted_retrains(rows, split, fitted, settings) if retrains is None else retrains
    return measure_envelope(found)


def measure_fitted_retrain_noise(
    rows: Rows, split: Split, fitted: Fitted, settings: TrainerSettings,
    retrains: NDArray[np.float64],
) -> RetrainNoise | None:  # fmt: skip
    """The retrains' paired paper-return noise against the fitted model on the test rows
    (``core.trading_noise``), in blocks of horizon + the longest feature window."""
    if rows.horizon_return is None:
        return None
    policy = (settings.buy_threshold, settings.sell_threshold,
              Costs(fee_bps=settings.fee_bps, slippage_bps=settings.slippage_bps))  # fmt: skip
    horizon = settings.horizon_seconds
    return measure_retrain_noise(
        rows.t[split.test].astype(np.float64), rows.horizon_return[split.test], fitted.p_test,
        retrains, policy=policy,
        block_seconds=plan_block_seconds(horizon, lookback_seconds(settings.features)),
    )  # fmt: skip


def assess_fitted_backtest(
    rows: Rows, split: Split, fitted: Fitted, settings: TrainerSettings
) -> Backtest:
    """Paper trading of the held-out predictions with the serving thresholds and spec costs."""
    policy = TradingPolicy(
        settings.buy_threshold, settings.sell_threshold,
        Costs(fee_bps=settings.fee_bps, slippage_bps=settings.slippage_bps),
    )  # fmt: skip
    return assess_backtest(
        rows, split, fitted.p_test, symbols=settings.symbols,
        horizon_seconds=settings.horizon_seconds, policy=policy,
    )  # fmt: skip


def build_reference(rows: Rows, split: Split, settings: TrainerSettings) -> DriftReference:
    """The drift reference sample: the thinned data window (see ``build_reference_sample``)."""
    sample = build_reference_sample(rows, settings.reference_rows)
    return DriftReference(tuple(settings.features), sample)


def calibrate_drift(
    rows: Rows, reference: DriftReference, settings: TrainerSettings
) -> Calibration:
    """Drift thresholds for the predictor's windows and the target false-alarm rate, replayed
    over the data window (see ``levibot_trainer.core.drift_calibration``)."""
    windows = MonitoringWindows(
        settings.drift_window_seconds, settings.drift_thin_seconds,
        settings.drift_interval_seconds, settings.drift_min_rows, settings.drift_alert_for_seconds,
    )  # fmt: skip
    return calibrate_thresholds(
        reference.features, reference.rows, rows.t, rows.x, windows,
        false_alarms_per_day=settings.drift_false_alarms_per_day, symbols=rows.symbol,
    )  # fmt: skip


def plan_window(settings: TrainerSettings, now: datetime) -> tuple[datetime, datetime]:
    """The data window [start, end]."""
    end = settings.end_time or now
    return end - timedelta(seconds=settings.data_window_seconds), end


async def _train_and_register(
    conn: asyncpg.Connection, settings: TrainerSettings, now: datetime, timer: StageTimer
) -> dict[str, Any]:
    start, end = plan_window(settings, now)
    with timer.stage("load"):
        parts = await fetch_training_closes(conn, settings.symbols, start, end)
    with timer.stage("features"):
        rows = build_training_rows(parts, settings)
        split = plan_checked_split(rows, settings)
    with timer.stage("train"):
        fitted = fit_and_assess(rows, split, settings)
    with timer.stage("backtest"):
        backtest = assess_fitted_backtest(rows, split, fitted, settings)
    with timer.stage("export"):
        onnx, parity = export_and_check(fitted, settings)
    with timer.stage("envelope"):
        retrains = predict_fitted_retrains(rows, split, fitted, settings)
        envelope = measure_fitted_envelope(rows, split, fitted, settings, retrains)
        noise = measure_fitted_retrain_noise(rows, split, fitted, settings, retrains)
        backtest = replace(backtest, retrain_noise=noise)
    with timer.stage("drift"):
        reference = build_reference(rows, split, settings)
        drift = calibrate_drift(rows, reference, settings)
    facts = TrainingFacts(start, end, rows, split, fitted.base_rate, fitted.model,
                          fitted.baseline, parity, envelope, backtest=backtest,
                          drift=drift)  # fmt: skip
    metrics = build_metrics(facts)
    with timer.stage("register"):
        try:
            stored = await register_version(
                conn, model_name=settings.model_name, version=settings.version, onnx=onnx,
                metadata=build_metadata(settings, facts), metrics=metrics,
                reference=reference,
            )  # fmt: skip
        except VersionConflictError:  # a concurrent run of the same Job registered it first
            existing = await fetch_version(conn, settings.model_name, settings.version)
            return build_existing(settings, existing.sha256)
    return build_success(
        settings, stored.sha256, metrics, build_counts(facts), timer.seconds, backtest=backtest
    )


async def run_training(
    settings: TrainerSettings, now: datetime, sleep: Sleep, timer: StageTimer
) -> dict[str, Any]:
    """The whole run; returns the result document or raises a ``TrainerError``."""
    conn = await fetch_connection(
        settings.dsn.get_secret_value(), settings.db_connect_attempts,
        settings.db_retry_delay_seconds, settings.db_timeout_seconds, sleep,
    )  # fmt: skip
    try:
        await apply_schema(conn)
        if await fetch_version_exists(conn, settings.model_name, settings.version):
            existing = await fetch_version(conn, settings.model_name, settings.version)
            return build_existing(settings, existing.sha256)
        return await _train_and_register(conn, settings, now, timer)
    except (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError) as exc:
        raise DatabaseUnreachableError(f"dsn: connection lost during the run: {exc}") from exc
    finally:
        await apply_close(conn)


async def apply_close(conn: asyncpg.Connection) -> None:
    """Close politely; a connection the server already dropped is just terminated."""
    try:
        await conn.close(timeout=5)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
        conn.terminate()

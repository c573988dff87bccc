"""Prediction service (predictor service layer, no HTTP): model, policy, kill-switch, cache, log.

Turns a validated float32 matrix or a symbol into results; knows nothing of HTTP. Time comes in
as an argument. Each served prediction is logged (asynchronously) and its features feed the
drift window (symbol predictions once per symbol and feature second, feature rows as they come);
fallbacks and errors are counted. While a shadow partner is loaded, every served row is also
scored by it and logged with both answers (``core.shadow``); the answer is unchanged.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from levibot_predictor.core.policy import (
    FallbackReason,
    FallbackRule,
    Signal,
    Thresholds,
    decide_signal,
    decide_symbol,
)
from levibot_predictor.core.runtime import ModelRuntime
from levibot_predictor.core.shadow import ShadowScores, ShadowSlot, score_shadow
from levibot_predictor.core.window import RowWindow
from levibot_predictor.errors import PredictorError, not_found, unavailable
from levibot_predictor.io.killswitch import KillSwitch
from levibot_predictor.io.marketcache import MarketCache
from levibot_predictor.io.metrics import PredictorMetrics
from levibot_predictor.io.predlog import IdSource, LogEntry, PredictionLog

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Policy:
    """The service's fixed rules, from settings."""

    thresholds: Thresholds
    fallback: FallbackRule
    staleness_limit: float


@dataclass(frozen=True)
class RowsResult:
    """Answers for a batch of feature rows; p_up is None for fallbacks."""

    ids: list[int]
    p_up: list[float | None]
    signals: list[Signal]
    reason: FallbackReason | None


@dataclass(frozen=True)
class SymbolResult:
    """Answer for one symbol, with the age of its market data."""

    prediction_id: int
    symbol: str
    p_up: float | None
    signal: Signal
    reason: FallbackReason | None
    staleness: float | None


class PredictionService:
    """Everything a prediction needs, wired once by the app."""

    def __init__(
        self,
        runtime: ModelRuntime,
        policy: Policy,
        parts: ServiceParts,
    ) -> None:
        self.runtime = runtime
        self.policy = policy
        self.kill_switch = parts.kill_switch
        self.cache = parts.cache
        self.log = parts.log
        self.window = parts.window
        self.metrics = parts.metrics
        self._ids = parts.ids
        self.shadow = parts.shadow
        self._shadow_warned = -math.inf

    def _run_model(self, matrix: NDArray[np.float32]) -> NDArray[np.float64] | None:
        if not self.runtime.ready:
            raise unavailable("model is not loaded yet")
        try:
            p_up = self.runtime.predict_p_up(matrix)
        except Exception:  # onnxruntime errors have no public base class
            log.exception("model run failed")
            self.metrics.count_error("model_error")
            return None
        if not math.isfinite(float(np.add.reduce(p_up))):  # NaN/inf anywhere reach the sum
            self.metrics.count_error("model_error")
            return None
        return p_up

    def _score_shadow(self, matrix: NDArray[np.float32], now: float) -> ShadowScores | None:
        """The partner's scores of the served rows; a failure is counted, never raised."""
        model = self.shadow.current
        if model is None:
            return None
        try:
            return score_shadow(model, matrix, self.policy.thresholds)
        except Exception as exc:  # onnxruntime errors have no public base class
            self.metrics.count_shadow_error("score")
            if now - self._shadow_warned > 60.0:  # at most one line a minute per process
                self._shadow_warned = now
                log.warning("shadow scoring by %s failed: %s", model.version, exc)
            return None

    def predict_rows(self, matrix: NDArray[np.float32], now: float) -> RowsResult:
        """Predict a validated (n, k) matrix, or answer HOLD for every row with the reason."""
        n = matrix.shape[0]
        ids = self._ids.take(n, now)
        p_up = None if self.kill_switch.on else self._run_model(matrix)
        if p_up is None:
            reason: FallbackReason = "kill_switch" if self.kill_switch.on else "model_error"
            self.metrics.count_fallback(reason, n)
            result = RowsResult(ids, [None] * n, ["HOLD"] * n, reason)
            self.log.submit(LogEntry(ids, "", now, result.p_up, result.signals, True, None))
            return result
        values = p_up.tolist()
        signals = [decide_signal(p, self.policy.thresholds) for p in values]
        self.window.add(matrix, now)
        shadow = self._score_shadow(matrix, now)
        self.log.submit(LogEntry(ids, "", now, values, signals, False, matrix, shadow))
        return RowsResult(ids, values, signals, None)

    def predict_symbol(self, symbol: str, now: float) -> SymbolResult:
        """Predict from the cached features of ``symbol``, or fall back with the reason."""
        cache = self.cache.symbols.get(symbol)
        if cache is None:
            raise not_found(f"symbol {symbol!r} is not served by this predictor")
        policy, state = self.policy, cache.state
        decision = decide_symbol(
            state, now, policy.staleness_limit, policy.fallback, self.kill_switch.on
        )
        self.metrics.set_symbol(symbol, decision.staleness, None)
        pid = self._ids.take(1, now)[0]
        if decision.features is not None:
            matrix = np.asarray([decision.features], dtype=np.float32)
            p_up = self._run_model(matrix)
            if p_up is not None:
                p = float(p_up[0])
                signal = decide_signal(p, policy.thresholds)
                # the market, not the traffic: one window row per (symbol, feature second)
                second = math.floor(state.last_tick if state.last_tick is not None else now)
                self.window.add_symbol(symbol, second, matrix)
                shadow = self._score_shadow(matrix, now)
                self.log.submit(LogEntry([pid], symbol, now, [p], [signal], False, matrix, shadow))
                return SymbolResult(pid, symbol, p, signal, None, decision.staleness)
            reason: FallbackReason = "model_error"
            signal = "HOLD"
        else:
            assert decision.reason is not None
            reason, signal = decision.reason, decision.signal
        self.metrics.count_fallback(reason)
        self.log.submit(LogEntry([pid], symbol, now, [None], [signal], True, None))
        return SymbolResult(pid, symbol, None, signal, reason, decision.staleness)


@dataclass(frozen=True)
class ServiceParts:
    """The stateful collaborators the service reads and feeds."""

    kill_switch: KillSwitch
    cache: MarketCache
    log: PredictionLog
    window: RowWindow
    metrics: PredictorMetrics
    ids: IdSource
    shadow: ShadowSlot = field(default_factory=ShadowSlot)


__all__ = ["Policy", "PredictionService", "PredictorError", "RowsResult", "ServiceParts"]

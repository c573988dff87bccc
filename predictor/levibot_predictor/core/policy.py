"""Decision core (predictor core, pure): thresholds → signal, fallback, staleness, kill-switch text.

Frozen values in, frozen values out; no I/O, no clock. The service calls these with the time,
the cached market state and the settings it was given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Signal = Literal["BUY", "SELL", "HOLD"]
FallbackPolicy = Literal["hold", "zscore"]
FallbackReason = Literal["stale_data", "db_unavailable", "model_error", "kill_switch"]


@dataclass(frozen=True)
class Thresholds:
    """p_up ≥ buy → BUY, p_up ≤ sell → SELL, otherwise HOLD."""

    buy: float
    sell: float


@dataclass(frozen=True)
class FallbackRule:
    """What to answer when the model cannot: HOLD, or the sign of zscore_60 past a threshold."""

    policy: FallbackPolicy
    zscore_threshold: float


@dataclass(frozen=True)
class MarketState:
    """The feature cache's view of one symbol at one instant."""

    features: tuple[float, ...] | None
    zscore_60: float | None
    last_tick: float | None
    db_ok: bool


@dataclass(frozen=True)
class SymbolDecision:
    """Either run the model on ``features`` (reason None) or answer ``signal`` as a fallback."""

    features: tuple[float, ...] | None
    signal: Signal
    reason: FallbackReason | None
    staleness: float | None


def decide_signal(p_up: float, thresholds: Thresholds) -> Signal:
    """BUY/SELL/HOLD for one probability."""
    if p_up >= thresholds.buy:
        return "BUY"
    if p_up <= thresholds.sell:
        return "SELL"
    return "HOLD"


def decide_fallback_signal(rule: FallbackRule, zscore_60: float | None) -> Signal:
    """The fallback's answer: HOLD, or follow zscore_60 beyond ±threshold."""
    if rule.policy == "hold" or zscore_60 is None or not math.isfinite(zscore_60):
        return "HOLD"
    if zscore_60 > rule.zscore_threshold:
        return "BUY"
    if zscore_60 < -rule.zscore_threshold:
        return "SELL"
    return "HOLD"


def assess_staleness(last_tick: float | None, now: float) -> float | None:
    """Seconds since the last tick (never negative), None when no tick was ever seen."""
    if last_tick is None:
        return None
    return max(0.0, now - last_tick)


def decide_symbol(
    state: MarketState, now: float, limit: float, rule: FallbackRule, kill_switch: bool
) -> SymbolDecision:
    """Serve the model, or fall back with the first reason that applies."""
    staleness = assess_staleness(state.last_tick, now)
    reason: FallbackReason | None = None
    if kill_switch:
        reason = "kill_switch"
    elif not state.db_ok:
        reason = "db_unavailable"
    elif staleness is None or staleness > limit or state.features is None:
        reason = "stale_data"
    if reason is None:
        return SymbolDecision(state.features, "HOLD", None, staleness)
    signal = "HOLD" if reason == "kill_switch" else decide_fallback_signal(rule, state.zscore_60)
    return SymbolDecision(None, signal, reason, staleness)


def parse_kill_switch_text(text: str) -> bool:
    """A kill-switch file's content: ``true`` (any case, surrounding blanks ignored) → on."""
    return text.strip().lower() in {"true", "1", "on", "yes"}

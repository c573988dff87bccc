"""Pure core: signals, fallback rule, symbol decisions, calibration math, ids, kill-switch text."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from levibot_predictor.core.calibration import assess_calibration, assess_ece
from levibot_predictor.core.policy import (
    FallbackRule,
    MarketState,
    Thresholds,
    decide_fallback_signal,
    decide_signal,
    decide_symbol,
    parse_kill_switch_text,
)
from levibot_predictor.io.marketcache import EMPTY, CloseBuffer, build_merged_buffer
from levibot_predictor.io.predlog import IdSource

T = Thresholds(buy=0.55, sell=0.45)
HOLD = FallbackRule("hold", 1.0)
ZSCORE = FallbackRule("zscore", 1.0)
FRESH = MarketState((0.1, 0.2), 1.5, last_tick=100.0, db_ok=True)


@pytest.mark.parametrize(("p", "signal"), [
    (0.0, "SELL"), (0.45, "SELL"), (0.46, "HOLD"), (0.549, "HOLD"), (0.55, "BUY"), (1.0, "BUY"),
])  # fmt: skip
def test_signal_thresholds(p: float, signal: str) -> None:
    assert decide_signal(p, T) == signal


@pytest.mark.parametrize(("rule", "z", "signal"), [
    (HOLD, 3.0, "HOLD"), (ZSCORE, 3.0, "BUY"), (ZSCORE, -3.0, "SELL"), (ZSCORE, 0.5, "HOLD"),
    (ZSCORE, None, "HOLD"), (ZSCORE, float("nan"), "HOLD"),
])  # fmt: skip
def test_fallback_rule(rule: FallbackRule, z: float | None, signal: str) -> None:
    assert decide_fallback_signal(rule, z) == signal


@pytest.mark.parametrize(("state", "now", "kill", "reason", "signal"), [
    (FRESH, 110.0, False, None, "HOLD"),
    (FRESH, 110.0, True, "kill_switch", "HOLD"),
    (MarketState((0.1,), 1.5, 100.0, db_ok=False), 110.0, False, "db_unavailable", "BUY"),
    (FRESH, 161.0, False, "stale_data", "BUY"),
    (MarketState(None, None, None, db_ok=True), 110.0, False, "stale_data", "HOLD"),
    (MarketState(None, None, 100.0, db_ok=True), 110.0, False, "stale_data", "HOLD"),
])  # fmt: skip
def test_symbol_decisions(
    state: MarketState, now: float, kill: bool, reason: str | None, signal: str
) -> None:
    decision = decide_symbol(state, now, 60.0, ZSCORE, kill)
    assert decision.reason == reason
    assert decision.signal == signal
    assert (decision.features is not None) == (reason is None)


def test_calibration_of_a_known_set() -> None:
    p = np.array([0.05, 0.15, 0.95, 0.95])
    y = np.array([0.0, 1.0, 1.0, 0.0])
    report = assess_calibration(p, y)
    assert report.ece == pytest.approx((0.05 + 0.85 + 2 * 0.45) / 4)
    assert report.brier == pytest.approx((0.05**2 + 0.85**2 + 0.05**2 + 0.95**2) / 4)
    assert report.accuracy == pytest.approx(0.5)
    assert report.count == 4


@given(st.lists(st.tuples(st.floats(0, 1), st.integers(0, 1)), min_size=1, max_size=200))
def test_ece_is_bounded_and_zero_for_perfect_bins(pairs: list[tuple[float, int]]) -> None:
    p = np.array([a for a, _ in pairs])
    y = np.array([b for _, b in pairs], dtype=float)
    assert 0.0 <= assess_ece(p, y) <= 1.0
    assert assess_ece(y, y) == 0.0


def test_ids_are_unique_and_time_ordered() -> None:
    source = IdSource(start=0xFFFFE)
    first = source.take(3, now=1000.0)
    later = source.take(2, now=1000.001)
    assert len(set(first + later)) == 5
    assert max(first) < min(later)
    assert all(0 < i < 2**63 for i in first + later)


@pytest.mark.parametrize(("text", "on"), [
    ("true", True), (" TRUE\n", True), ("false", False), ("", False), ("yes", True),
    ("nonsense", False),
])  # fmt: skip
def test_kill_switch_text(text: str, on: bool) -> None:
    assert parse_kill_switch_text(text) is on


def test_merging_close_buffers() -> None:
    old = CloseBuffer(np.arange(10, 15), np.arange(10, 15, dtype=float))
    new = CloseBuffer(np.arange(14, 17), np.array([99.0, 15.0, 16.0]))
    merged = build_merged_buffer(old, new, keep=5)
    assert merged.seconds.tolist() == [12, 13, 14, 15, 16]
    assert merged.closes.tolist() == [12.0, 13.0, 99.0, 15.0, 16.0]
    gap = build_merged_buffer(old, CloseBuffer(np.array([20]), np.array([1.0])), keep=5)
    assert gap.seconds.tolist() == [20]
    assert build_merged_buffer(EMPTY, EMPTY, keep=5).seconds.size == 0

"""``kubectl levibot`` history/status blocks for paper trading and the breaker, and the
reset-breaker request against a recording fake kubectl (issue 15, 5)."""

import argparse
import io
from typing import Any

from levibot_operator.cli import trading

ROW = {
    "version": "v1", "track": "stable", "window": "1d", "trades": 20, "pnl": -0.05,
    "sharpe": -3.2, "maxDrawdown": 0.07, "winRate": 0.15, "winRateLow": 0.05, "winRateHigh": 0.36,
}  # fmt: skip
BREAKER = {
    "state": "Tripped", "version": "v1", "breaker": "losingStreak", "trippedAt": "T",
    "message": "5 losing trades in a row (limit 5)", "readings": [{"message": "5 losing trades"}],
}  # fmt: skip


def body(breaker: dict[str, Any] | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {"paperTrading": {"at": "T0", "results": [ROW]}}
    if breaker:
        status["circuitBreaker"] = breaker
    return {"metadata": {"name": "btc"}, "status": status}


def test_the_paper_block_says_paper_and_shows_each_figure() -> None:
    text = trading.format_paper(body(BREAKER))
    assert "TRIPPED (losingStreak) on v1" in text
    assert "every answer is HOLD" in text
    assert "paper results, not advice" in text
    assert "15.0% [5.0%, 36.0%]" in text
    assert "-5.0%" in text
    assert "7.0%" in text
    assert trading.format_paper({"metadata": {"name": "x"}}) == ""


def test_reset_breaker_annotates_and_waits_for_the_operator() -> None:
    calls: list[tuple[str, ...]] = []
    handled = dict(BREAKER, state="Closed", handledReset="tok")

    def fetch(*args: str) -> dict[str, Any]:
        calls.append(args)
        return body(handled if len(calls) > 2 else BREAKER)

    out = io.StringIO()
    args = argparse.Namespace(modeldeployment="btc", wait=5.0)
    assert trading.run_reset_breaker(fetch, args, "tok", lambda _: None, out) == 0
    assert calls[1] == ("annotate", "modeldeployments", "btc", "--overwrite",
                        "levibot.io/reset-breaker=tok")  # fmt: skip
    assert "reset-breaker btc: done; breaker closed" in out.getvalue()

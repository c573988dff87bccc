"""Paper-trading results per served version, over the last day and week (issue 15, 5).

Layer: core (pure). These are paper results, never advice: each resolved BUY/SELL answer opens a
paper position by the rules of ``levibot_common.trading`` (one position per symbol at a time, a
fixed unit stake, closed at the horizon's resolved price, the spec's fee and slippage on both
sides). They are recomputed every ``PAPER_INTERVAL_SECONDS`` (or the breakers' interval when
shorter) and kept in ``status.paperTrading`` with the instant they were computed, which the
metrics server, ``kubectl levibot status`` and the demo read. Sharpe is annualised from the
trade rate over the time the version was actually logged in the window.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

from levibot_common.trading import (
    Costs,
    Trades,
    describe_summary,
    simulate_trades,
    summarize_trades,
)
from levibot_operator.core.fields import format_time, parse_time

Json = Mapping[str, Any]
PAPER_WINDOWS: tuple[tuple[str, int], ...] = (("1d", 86_400), ("7d", 604_800))
PAPER_INTERVAL_SECONDS = 60


@dataclass(frozen=True)
class VersionSignals:
    """One served version's resolved BUY/SELL rows (oldest first) and its track."""

    version: str
    track: str
    ts: NDArray[np.float64]
    symbols: NDArray[np.object_]
    signals: NDArray[np.object_]
    returns: NDArray[np.float64]


def is_paper_due(paper: Json, now: datetime, interval_seconds: float) -> bool:
    """Whether the last results are older than ``interval_seconds`` (or absent)."""
    at = parse_time(str(paper.get("at") or ""))
    return at is None or now - at >= timedelta(seconds=interval_seconds)


def simulate_version(rows: VersionSignals, horizon_seconds: int, costs: Costs) -> Trades:
    """The version's paper trades."""
    return simulate_trades(
        rows.ts, rows.symbols, rows.signals, rows.returns,
        horizon_seconds=float(horizon_seconds), costs=costs,
    )  # fmt: skip


def select_trades(trades: Trades, since: float) -> Trades:
    """The trades opened at or after ``since`` (epoch seconds)."""
    keep = trades.opened_at >= since
    return Trades(
        trades.symbol[keep], trades.opened_at[keep], trades.side[keep],
        trades.gross[keep], trades.net[keep],
    )  # fmt: skip


def summarize_windows(
    rows: VersionSignals, horizon_seconds: int, costs: Costs, now: datetime
) -> list[dict[str, Any]]:
    """One result per window of ``PAPER_WINDOWS`` for the version (status JSON)."""
    trades = simulate_version(rows, horizon_seconds, costs)
    end = now.timestamp()
    first = float(rows.ts[0]) if rows.ts.size else end
    results = []
    for name, seconds in PAPER_WINDOWS:
        start = end - seconds
        period = end - max(start, first)
        summary = summarize_trades(select_trades(trades, start), period_seconds=period)
        results.append(
            {"version": rows.version, "track": rows.track, "window": name}
            | describe_summary(summary)
        )
    return results


def build_paper_json(
    versions: Sequence[VersionSignals], horizon_seconds: int, costs: Costs, now: datetime
) -> dict[str, Any]:
    """``status.paperTrading``: when, and every version's results per window."""
    results = [r for v in versions for r in summarize_windows(v, horizon_seconds, costs, now)]
    return {"at": format_time(now), "results": results}


def parse_paper_json(obj: Any) -> dict[str, Any]:
    """``status.paperTrading`` as written (lenient: anything else is absent)."""
    if not isinstance(obj, Mapping):
        return {}
    results = obj.get("results")
    rows = [dict(r) for r in results if isinstance(r, Mapping)] if isinstance(results, list) else []
    return {"at": str(obj.get("at") or ""), "results": rows}

"""Paper-trading results per served version, over the last day and week (issue 15, 5).

Layer: core (pure). These are paper results, never advice: each resolved BUY/SELL answer opens a
paper position by the rules of ``levibot_common.trading`` (one position per symbol at a time, a
fixed unit stake, closed at the horizon's resolved price, the spec's fee and slippage on both
sides). Each window is recomputed on its own cadence (the last day every minute, the last week
every ten, so a resync never reads a week of log) and kept in ``status.paperTrading`` with the
instant each was computed, which the metrics server, ``kubectl levibot status`` and the demo read.
Sharpe is annualised from the trade rate since the version's first BUY/SELL in the window.
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
# name, length and how often it is recomputed, in seconds
PAPER_WINDOWS: tuple[tuple[str, int, int], ...] = (("1d", 86_400, 60), ("7d", 604_800, 600))


@dataclass(frozen=True)
class VersionSignals:
    """One served version's resolved BUY/SELL rows (oldest first) and its track."""

    version: str
    track: str
    ts: NDArray[np.float64]
    symbols: NDArray[np.object_]
    signals: NDArray[np.object_]
    returns: NDArray[np.float64]


def find_due_windows(paper: Json, now: datetime) -> tuple[str, ...]:
    """The windows whose last results are older than their cadence (or absent)."""
    stamps = paper.get("windows")
    computed: Json = stamps if isinstance(stamps, Mapping) else {}
    due = []
    for name, _, every in PAPER_WINDOWS:
        at = parse_time(str(computed.get(name) or ""))
        if at is None or now - at >= timedelta(seconds=every):
            due.append(name)
    return tuple(due)


def find_covered_windows(look_back_seconds: int) -> tuple[str, ...]:
    """The windows within ``look_back_seconds``: recomputed for free whenever the breakers read
    that much of the log anyway (so their results follow the breakers' cadence)."""
    return tuple(name for name, seconds, _ in PAPER_WINDOWS if seconds <= look_back_seconds)


def find_look_back(windows: Sequence[str]) -> int:
    """The longest of ``windows``, in seconds (0 for none)."""
    return max((seconds for name, seconds, _ in PAPER_WINDOWS if name in windows), default=0)


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
    rows: VersionSignals, horizon_seconds: int, costs: Costs, now: datetime, windows: Sequence[str]
) -> list[dict[str, Any]]:
    """One result per window of ``windows`` for the version (status JSON)."""
    trades = simulate_version(rows, horizon_seconds, costs)
    end = now.timestamp()
    first = float(rows.ts[0]) if rows.ts.size else end
    results = []
    for name, seconds, _ in PAPER_WINDOWS:
        if name not in windows:
            continue
        start = end - seconds
        period = end - max(start, first)
        summary = summarize_trades(select_trades(trades, start), period_seconds=period)
        results.append(
            {"version": rows.version, "track": rows.track, "window": name}
            | describe_summary(summary)
        )
    return results


def build_paper_json(
    old: Json,
    versions: Sequence[VersionSignals],
    trading: tuple[int, Costs],
    now: datetime,
    windows: Sequence[str],
) -> dict[str, Any]:
    """``status.paperTrading`` with ``windows`` recomputed for the served ``versions``; the
    other windows' results are kept for the versions still served. ``trading`` is the horizon
    and the costs."""
    horizon, costs = trading
    served = {v.version for v in versions}
    kept = [
        dict(r)
        for r in old.get("results") or ()
        if r.get("window") not in windows and r.get("version") in served
    ]
    fresh = [r for v in versions for r in summarize_windows(v, horizon, costs, now, windows)]
    order = {name: i for i, (name, _, _) in enumerate(PAPER_WINDOWS)}
    results = sorted(
        kept + fresh, key=lambda r: (str(r.get("version")), order.get(str(r.get("window")), 9))
    )
    stamps = dict(old.get("windows") or {}) | {name: format_time(now) for name in windows}
    return {"at": format_time(now), "windows": stamps, "results": results}


def parse_paper_json(obj: Any) -> dict[str, Any]:
    """``status.paperTrading`` as written (lenient: anything else is absent)."""
    if not isinstance(obj, Mapping):
        return {}
    results = obj.get("results")
    rows = [dict(r) for r in results if isinstance(r, Mapping)] if isinstance(results, list) else []
    stamps = obj.get("windows")
    windows = {str(k): str(v) for k, v in stamps.items()} if isinstance(stamps, Mapping) else {}
    return {"at": str(obj.get("at") or ""), "windows": windows, "results": rows}

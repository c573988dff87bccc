"""Paper results per version and window (issue 15, 5): the trades of each window, the Sharpe's
period (the time the version was logged in it), and the status JSON the metrics and CLI read."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from levibot_common.trading import Costs
from levibot_operator.core.modeldeployment.paper import (
    VersionSignals,
    build_paper_json,
    find_covered_windows,
    find_due_windows,
    parse_paper_json,
)
from tests.operator.support.fakes import NOW

END = NOW.timestamp()
BOTH = ("1d", "7d")
TRADING = (60, Costs())


def signals(ts: list[float], returns: list[float], signal: str = "BUY") -> VersionSignals:
    n = len(ts)
    return VersionSignals(
        "v1", "stable", np.array(ts), np.array(["BTCUSDT"] * n, dtype=object),
        np.array([signal] * n, dtype=object), np.array(returns),
    )  # fmt: skip


def test_each_window_counts_its_own_trades_net_of_costs() -> None:
    # one trade two days ago (+1 %), two in the last day (+0.5 %, -0.2 %); 30 bps a round trip
    rows = signals([END - 2 * 86_400, END - 3600, END - 600], [0.01, 0.005, -0.002])
    paper = build_paper_json({}, [rows], TRADING, NOW, BOTH)
    day, week = paper["results"]
    assert (day["window"], day["trades"], week["window"], week["trades"]) == ("1d", 2, "7d", 3)
    assert day["pnl"] == pytest.approx(0.005 - 0.002 - 2 * 0.003)
    assert week["pnl"] == pytest.approx(0.01 + 0.005 - 0.002 - 3 * 0.003)
    assert (day["wins"], day["winRate"]) == (1, 0.5)
    assert day["version"] == "v1"
    assert day["track"] == "stable"


def test_a_version_that_only_holds_has_no_trades_and_no_pnl() -> None:
    rows = signals([END - 100, END - 10], [0.01, -0.01], signal="HOLD")
    day = build_paper_json({}, [rows], TRADING, NOW, BOTH)["results"][0]
    assert (day["trades"], day["pnl"], day["sharpe"], day["winRate"]) == (0, 0.0, None, None)


def test_each_window_has_its_cadence_and_the_others_are_kept() -> None:
    rows = signals([END - 600], [0.01])
    paper = build_paper_json({}, [rows], TRADING, NOW, BOTH)
    assert paper["windows"] == {"1d": "2026-11-21T12:00:00Z", "7d": "2026-11-21T12:00:00Z"}
    assert find_due_windows(paper, NOW + timedelta(seconds=59)) == ()
    assert find_due_windows(paper, NOW + timedelta(seconds=60)) == ("1d",)
    assert find_due_windows(paper, NOW + timedelta(seconds=600)) == BOTH
    assert find_due_windows({}, NOW) == BOTH
    later = NOW + timedelta(seconds=60)
    day_only = build_paper_json(paper, [signals([], [])], TRADING, later, ("1d",))
    day, week = day_only["results"]
    assert (day["window"], day["trades"], week["window"], week["trades"]) == ("1d", 0, "7d", 1)
    assert day_only["windows"]["7d"] == "2026-11-21T12:00:00Z"
    gone = build_paper_json(paper, [], TRADING, later, ("1d",))  # a version no longer served
    assert gone["results"] == []
    assert parse_paper_json(day_only) == day_only
    assert parse_paper_json("junk") == {}


def test_the_breakers_look_back_covers_the_short_window() -> None:
    assert find_covered_windows(86_400) == ("1d",)
    assert find_covered_windows(3600) == ()

"""Shares, medians, the table and the JSON of issue 13 (benchmark helper, pure).

A scenario is (market, gates, rate, kind). Per scenario: the share of canaries rolled back,
promoted and paused (fractions in [0, 1]), the median time to any verdict
(``median_decision_s``) and the median time to each verdict.
"""

from __future__ import annotations

from collections import defaultdict
from statistics import median
from typing import Any

from gatesim.models import BROKEN, HEALTHY, KINDS
from gatesim.simulate import Row

VERDICTS = ("rolled_back", "promoted", "paused")
Key = tuple[str, str, float, str]


def summarize_rows(rows: list[Row]) -> dict[Key, dict[str, float]]:
    """Per scenario: counts, shares and median times."""
    groups: dict[Key, list[tuple[str, float]]] = defaultdict(list)
    for market, gates, rate, kind, verdict, seconds in rows:
        groups[(market, gates, rate, kind)].append((verdict, seconds))
    return {key: summarize_group(values) for key, values in groups.items()}


def summarize_group(values: list[tuple[str, float]]) -> dict[str, float]:
    """Shares of each verdict, the median time to a verdict and to each verdict."""
    n = len(values)
    summary: dict[str, float] = {"n": float(n)}
    for verdict in VERDICTS:
        times = [s for v, s in values if v == verdict]
        summary[verdict] = len(times) / n
        summary[f"median_{verdict}_s"] = median(times) if times else float("nan")
    summary["median_decision_s"] = median(s for _, s in values)
    return summary


def build_issue_json(summary: dict[Key, dict[str, float]], market: str, gates: str,
                     rate: float) -> dict[str, Any]:  # fmt: skip
    """The issue's ``--json`` object for one market, gate set and rate."""

    def entry(kind: str) -> dict[str, float]:
        s = summary[(market, gates, rate, kind)]
        return {k: round(s[k], 4) for k in (*VERDICTS, "median_decision_s")}

    return {"healthy": {k: entry(k) for k in HEALTHY}, "broken": {k: entry(k) for k in BROKEN}}


def format_table(summary: dict[Key, dict[str, float]], market: str, rate: float,
                 gate_sets: tuple[str, ...]) -> str:  # fmt: skip
    """One table per (market, rate): a row per kind, a column group per gate set."""
    head = "".join(f" | {g + ' gates':^43s}" for g in gate_sets)
    sub = "".join(" | rolled  promo  paused  med_s  rb_s  pr_s" for _ in gate_sets)
    lines = [
        f"\n{market} market, {rate:g} req/s per symbol",
        f"{'':12s}{head}",
        f"{'kind':12s}{sub}",
    ]
    for kind in KINDS:
        cells = ""
        for gates in gate_sets:
            s = summary.get((market, gates, rate, kind))
            cells += " | " + ("n/a".center(43) if s is None else format_cells(s))
        lines.append(f"{kind:12s}{cells}")
    return "\n".join(lines)


def format_cells(s: dict[str, float]) -> str:
    """Shares in percent and median seconds."""
    return (f"{s['rolled_back']:6.1%} {s['promoted']:6.1%} {s['paused']:6.1%} "
            f"{s['median_decision_s']:6.0f} {s['median_rolled_back_s']:5.0f} "
            f"{s['median_promoted_s']:5.0f}")  # fmt: skip

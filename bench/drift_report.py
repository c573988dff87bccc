"""What bench/drift_false_alarms.py prints (bench helper, pure): pooled figures, intervals, targets.

False alarms are a Poisson count over the healthy days: printed as "N in D days", the rate and
its exact 95 % interval (a single seed's 7 days cannot show a rate of at most one in 7 days:
zero alarms in 7 days still allows 0.53 a day). Detection is the share of trials alarmed within
the horizon, beside its ceiling: the share of trials whose changed volatility leaves the
training period's healthy range (``beyond``; see the bench's ``assess_beyond``), and the
detection rate among those.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

CHANGES = ("vol_x3", "momentum_flip", "level_shift")
TARGET_PER_DAY = 1 / 7  # issue 14: at most one false alarm per 7 simulated days
TARGET_DETECTION = 0.95  # issue 14: vol x3 detected within 30 min
Delays = dict[str, list[float | None]]


@dataclass(frozen=True)
class Outcome:
    """What one job measured: alarms (new, today) over healthy days, per change the delays
    (None: not alarmed within the scale's horizon), new and today, and per vol_x3 trial whether
    the changed volatility left the healthy range."""

    job: str
    days: float
    alarms: int
    alarms_today: int
    delays: Delays
    delays_today: Delays
    beyond: list[bool]
    thresholds: dict[str, tuple[float, float, float, float]]  # psi, ks p, tail, tail_symbol
    seconds: float
    fired: dict[str, int] = field(default_factory=dict)  # alarms per feature/statistic
    notifications: int = 0  # episodes of any series firing: Alertmanager's group per version


def assess_poisson_interval(count: int, days: float) -> tuple[float, float]:
    """The exact (Garwood) 95 % interval of a Poisson rate per day."""
    low = float(stats.gamma.ppf(0.025, count)) if count else 0.0
    return low / days, float(stats.gamma.ppf(0.975, count + 1)) / days


def summarize_delays(delays: Sequence[float | None]) -> dict[str, float | None]:
    """Detection rate and the median delay of the detected."""
    found = [d for d in delays if d is not None]
    rate = len(found) / len(delays) if delays else math.nan
    return {"rate": round(rate, 4), "median_delay_s": float(np.median(found)) if found else None}


def summarize_ceiling(delays: Sequence[float | None], beyond: Sequence[bool]) -> dict[str, float]:
    """The ceiling (share of trials beyond the healthy range) and the rate among those."""
    inside = [d for d, b in zip(delays, beyond, strict=True) if b]
    rate = sum(d is not None for d in inside) / len(inside) if inside else math.nan
    ceiling = len(inside) / len(beyond) if beyond else math.nan
    return {"ceiling": round(ceiling, 4), "rate_beyond_range": round(rate, 4)}


def summarize(outcomes: Sequence[Outcome], today: bool) -> dict[str, object]:
    """One group's figures pooled over its jobs (the issue's JSON shape, plus the count, days,
    interval and the vol_x3 ceiling)."""
    days = sum(o.days for o in outcomes)
    alarms = sum(o.alarms_today if today else o.alarms for o in outcomes)
    detect: dict[str, dict[str, float | None]] = {}
    for change in CHANGES:
        pooled = [d for o in outcomes for d in (o.delays_today if today else o.delays)[change]]
        detect[change] = summarize_delays(pooled)
    vol = [d for o in outcomes for d in (o.delays_today if today else o.delays)["vol_x3"]]
    detect["vol_x3"].update(summarize_ceiling(vol, [b for o in outcomes for b in o.beyond]))
    low, high = assess_poisson_interval(alarms, days) if days else (math.nan, math.nan)
    grouped = sum(o.notifications for o in outcomes)
    g_low, g_high = assess_poisson_interval(grouped, days) if days else (math.nan, math.nan)
    return {
        "false_alarms_per_day": round(alarms / days, 4) if days else None,
        "false_alarms": {"count": alarms, "days": round(days, 3),
                         "ci95_per_day": [round(low, 4), round(high, 4)]},
        "notifications": {"count": grouped, "ci95_per_day": [round(g_low, 4), round(g_high, 4)]},
        "detect": detect,
    }  # fmt: skip


def format_line(label: str, figures: dict[str, object]) -> str:
    """One row: false alarms (count, days, rate, interval) and each change's detection."""
    detect, alarms = figures["detect"], figures["false_alarms"]
    assert isinstance(detect, dict)
    assert isinstance(alarms, dict)
    low, high = alarms["ci95_per_day"]
    parts = [f"{label:6s} false alarms {alarms['count']:>4} in {alarms['days']:5.1f} d = "
             f"{figures['false_alarms_per_day']!s:>7}/d [{low:.3g}, {high:.3g}]"]  # fmt: skip
    for change in CHANGES:
        d = detect[change]
        delay = "-" if d["median_delay_s"] is None else f"{d['median_delay_s']:.0f}s"
        parts.append(f"{change} {d['rate']:.0%} ({delay})")
    vol = detect["vol_x3"]
    parts.append(
        f"vol_x3 ceiling {vol['ceiling']:.0%}, beyond-range {vol['rate_beyond_range']:.0%}"
    )
    return "  ".join(parts)


def format_verdicts(pooled: dict[str, object], markets: dict[str, dict[str, object]]) -> list[str]:
    """The acceptance targets at production windows, each with its figure and a yes/no."""
    alarms = pooled["false_alarms"]
    assert isinstance(alarms, dict)
    low, high = alarms["ci95_per_day"]
    rate = pooled["false_alarms_per_day"]
    point = "met" if (rate or 0) <= TARGET_PER_DAY else "NOT met"
    shown = "yes" if high <= TARGET_PER_DAY else "no (more healthy days needed)"
    lines = [f"  false alarms <= 1 per 7 days ({TARGET_PER_DAY:.3f}/d), all markets pooled: "
             f"{alarms['count']} in {alarms['days']:.1f} days = {rate}/d, 95 % interval "
             f"[{low:.3g}, {high:.3g}]: {point}; shown at 95 %: {shown}"]  # fmt: skip
    grouped = pooled["notifications"]
    assert isinstance(grouped, dict)
    g_low, g_high = grouped["ci95_per_day"]
    lines.append(f"    as notifications (a version's drift alerts firing together are one "
                 f"Alertmanager group): {grouped['count']} in {alarms['days']:.1f} days, 95 % "
                 f"interval [{g_low:.3g}, {g_high:.3g}]")  # fmt: skip
    for market, figures in markets.items():
        vol = figures["detect"]["vol_x3"]  # type: ignore[index]
        met = vol["rate"] >= TARGET_DETECTION
        attainable = vol["ceiling"] >= TARGET_DETECTION
        verdict = ("met" if met else "NOT met") if attainable else (
            f"not attainable (ceiling {vol['ceiling']:.0%}): {vol['rate_beyond_range']:.0%} of "
            "the trials beyond the healthy range detected")  # fmt: skip
        lines.append(f"  vol x3 >= 95 % within 30 min, {market}: {vol['rate']:.0%} "
                     f"(ceiling {vol['ceiling']:.0%}): {verdict}")  # fmt: skip
    return lines

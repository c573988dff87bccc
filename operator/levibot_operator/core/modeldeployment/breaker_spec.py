"""Parse ``spec.circuitBreakers``: the circuit breakers on the serving version (issue 15, 4).

Layer: core (pure). Absent: no breaker at all (nothing changes for a ModelDeployment that did not
ask). Present, even empty: the four breakers of the arbitrage guide (seed 002) with its figures:
a win rate below 40 % over the last 20 trades (judged by the Wilson interval's upper bound, not
the point estimate), a drawdown above 15 % of the unit stake, 5 losing trades in a row, and a
realised volatility above 3 x the training period's. Each can be switched off on its own
(``enabled: false``). Bounds are the CRD's.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from levibot_operator.core.fields import SpecError, check_within, read_field

Json = Mapping[str, Any]


@dataclass(frozen=True)
class WinRateBreaker:
    """Trips when the Wilson 95 % upper bound of the last ``trades`` trades' win rate is below
    ``minimum``: the win rate is then below it with 97.5 % confidence, not just by bad luck."""

    enabled: bool = True
    minimum: float = 0.40
    trades: int = 20


@dataclass(frozen=True)
class DrawdownBreaker:
    """Trips when the cumulative net PnL has fallen more than ``maximum`` (a fraction of the
    unit stake) below its running peak within the window."""

    enabled: bool = True
    maximum: float = 0.15


@dataclass(frozen=True)
class LosingStreakBreaker:
    """Trips after ``trades`` losing trades (net return <= 0) in a row."""

    enabled: bool = True
    trades: int = 5


@dataclass(frozen=True)
class VolatilityBreaker:
    """Trips when the standard deviation of the market's horizon returns over the last
    ``window_seconds`` (every resolved row, HOLD included: it measures the market, not the model)
    exceeds ``multiple`` x the training period's, with at least ``min_samples`` returns."""

    enabled: bool = True
    multiple: float = 3.0
    window_seconds: int = 900
    min_samples: int = 30


@dataclass(frozen=True)
class CircuitBreakers:
    """``spec.circuitBreakers``: the four breakers, their look-back, cadence and cool-down."""

    win_rate: WinRateBreaker = field(default_factory=WinRateBreaker)
    drawdown: DrawdownBreaker = field(default_factory=DrawdownBreaker)
    losing_streak: LosingStreakBreaker = field(default_factory=LosingStreakBreaker)
    volatility: VolatilityBreaker = field(default_factory=VolatilityBreaker)
    window_seconds: int = 86_400  # trades judged: opened within it (and since the last reset)
    interval_seconds: int = 30  # how often the prediction log is read
    cool_down_seconds: int = 3600  # a trip resets by itself no sooner, and only once cleared
    auto_reset: bool = True  # false: only by hand (kubectl levibot reset-breaker)


def parse_fraction(obj: Json, key: str, default: float, path: str) -> float:
    """A number within [0, 1]."""
    value = read_field(obj, key, path, float, default)
    if not 0.0 <= value <= 1.0:
        raise SpecError(f"{path}.{key}", f"must be within 0..1 (got {str(value)[:24]})")
    return value


def parse_win_rate(obj: Json, path: str) -> WinRateBreaker:
    """``winRate``: minimum 0..1, trades 5..1000."""
    trades = read_field(obj, "trades", path, int, 20)
    return WinRateBreaker(
        enabled=read_field(obj, "enabled", path, bool, True),
        minimum=parse_fraction(obj, "minimum", 0.40, path),
        trades=check_within(trades, 5, 1000, f"{path}.trades"),
    )


def parse_drawdown(obj: Json, path: str) -> DrawdownBreaker:
    """``drawdown``: maximum 0..1 of the unit stake."""
    return DrawdownBreaker(
        enabled=read_field(obj, "enabled", path, bool, True),
        maximum=parse_fraction(obj, "maximum", 0.15, path),
    )


def parse_losing_streak(obj: Json, path: str) -> LosingStreakBreaker:
    """``losingStreak``: trades 1..1000."""
    trades = read_field(obj, "trades", path, int, 5)
    return LosingStreakBreaker(
        enabled=read_field(obj, "enabled", path, bool, True),
        trades=check_within(trades, 1, 1000, f"{path}.trades"),
    )


def parse_volatility(obj: Json, path: str) -> VolatilityBreaker:
    """``volatility``: multiple 1..100, windowSeconds 10..86400, minSamples 2..100000."""
    multiple = read_field(obj, "multiple", path, float, 3.0)
    if not 1.0 <= multiple <= 100.0:
        raise SpecError(f"{path}.multiple", f"must be within 1..100 (got {str(multiple)[:24]})")
    window = read_field(obj, "windowSeconds", path, int, 900)
    samples = read_field(obj, "minSamples", path, int, 30)
    return VolatilityBreaker(
        enabled=read_field(obj, "enabled", path, bool, True),
        multiple=multiple,
        window_seconds=check_within(window, 10, 86_400, f"{path}.windowSeconds"),
        min_samples=check_within(samples, 2, 100_000, f"{path}.minSamples"),
    )


def parse_circuit_breakers(
    obj: Json | None, path: str = "spec.circuitBreakers"
) -> CircuitBreakers | None:
    """Parse ``spec.circuitBreakers``; None when absent (no breaker)."""
    if obj is None:
        return None
    window = read_field(obj, "windowSeconds", path, int, 86_400)
    interval = read_field(obj, "intervalSeconds", path, int, 30)
    cool_down = read_field(obj, "coolDownSeconds", path, int, 3600)
    return CircuitBreakers(
        win_rate=parse_win_rate(read_field(obj, "winRate", path, dict, {}), f"{path}.winRate"),
        drawdown=parse_drawdown(read_field(obj, "drawdown", path, dict, {}), f"{path}.drawdown"),
        losing_streak=parse_losing_streak(
            read_field(obj, "losingStreak", path, dict, {}), f"{path}.losingStreak"
        ),
        volatility=parse_volatility(
            read_field(obj, "volatility", path, dict, {}), f"{path}.volatility"
        ),
        window_seconds=check_within(window, 60, 2_592_000, f"{path}.windowSeconds"),
        interval_seconds=check_within(interval, 1, 3600, f"{path}.intervalSeconds"),
        cool_down_seconds=check_within(cool_down, 0, 2_592_000, f"{path}.coolDownSeconds"),
        auto_reset=read_field(obj, "autoReset", path, bool, True),
    )

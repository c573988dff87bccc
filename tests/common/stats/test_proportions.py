"""Wilson interval: textbook values and its exact coverage (binomial sums, no simulation)."""

from __future__ import annotations

import math

import pytest

from levibot_common.stats.proportions import compute_wilson_interval


@pytest.mark.parametrize(
    ("x", "n", "lower", "upper"),
    [
        (0, 10, 0.0, 0.27753),
        (5, 10, 0.23659, 0.76341),
        (10, 10, 0.72247, 1.0),
        (1, 1, 0.20654, 1.0),
    ],
)
def test_wilson_by_hand(x: int, n: int, lower: float, upper: float) -> None:
    ci = compute_wilson_interval(x, n, 0.05)
    assert (ci.estimate, ci.n) == (x / n, n)
    assert ci.lower == pytest.approx(lower, abs=1e-5)
    assert ci.upper == pytest.approx(upper, abs=1e-5)


def test_no_trials_gives_the_whole_unit_interval() -> None:
    ci = compute_wilson_interval(0, 0, 0.05)
    assert math.isnan(ci.estimate)
    assert (ci.lower, ci.upper, ci.n) == (0.0, 1.0, 0)


@pytest.mark.parametrize(("x", "n"), [(-1, 5), (6, 5), (0, -1)])
def test_impossible_counts_are_rejected(x: int, n: int) -> None:
    with pytest.raises(ValueError, match="proportions"):
        compute_wilson_interval(x, n, 0.05)


@pytest.mark.parametrize("n", [20, 50, 200])
@pytest.mark.parametrize("p", [0.1, 0.3, 0.5])
def test_wilson_covers_near_nominal(n: int, p: float) -> None:
    coverage = sum(
        math.comb(n, x) * p**x * (1 - p) ** (n - x)
        for x in range(n + 1)
        if (ci := compute_wilson_interval(x, n, 0.05)).lower <= p <= ci.upper
    )
    assert coverage >= 0.93  # Brown, Cai & DasGupta (2001): Wilson oscillates close to 0.95


def test_interval_shrinks_with_n() -> None:
    widths = [
        (ci.upper - ci.lower)
        for ci in (compute_wilson_interval(n // 4, n, 0.05) for n in (8, 40, 400))
    ]
    assert widths == sorted(widths, reverse=True)

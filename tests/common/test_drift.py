"""The tail share (issue 14): the rows of a window beyond the reference's extreme quantiles,
which PSI's decile bins cannot see past once a window fills the outermost decile."""

from __future__ import annotations

import numpy as np
import pytest

from levibot_common.drift import (
    TAIL_QUANTILE,
    assess_psi,
    assess_psi_reach,
    assess_tail_share,
    plan_tail_edges,
    summarize_tail,
)


def test_the_edges_are_the_reference_extreme_quantiles() -> None:
    reference = np.arange(1001.0)  # 0 .. 1000
    assert plan_tail_edges(reference) == pytest.approx(
        (1000 * TAIL_QUANTILE, 1000 * (1 - TAIL_QUANTILE))
    )


@pytest.mark.parametrize(
    ("current", "share"),
    [
        ([500.0, 500.0, 500.0, 500.0], 0.0),
        ([-1.0, 500.0, 2000.0, 500.0], 0.5),  # below and above both count
        ([5.0, 995.0], 0.0),  # on an edge is inside
        ([], 0.0),
    ],
)
def test_the_share_counts_rows_strictly_outside(current: list[float], share: float) -> None:
    assert assess_tail_share(np.arange(1001.0), np.array(current)) == share


def test_a_healthy_sample_holds_about_one_percent_beyond() -> None:
    rng = np.random.default_rng(3)
    reference = rng.standard_normal(20_000)
    assert assess_tail_share(reference, rng.standard_normal(200_000)) == pytest.approx(
        0.01, abs=0.002
    )


def test_the_share_sees_how_far_beyond_where_psi_saturates() -> None:
    """Top-decile values and values 3x past the range have nearly the same PSI; the share of the
    first is small, of the second whole."""
    rng = np.random.default_rng(4)
    reference = rng.standard_normal(20_000)
    stormy = np.quantile(reference, 0.95) + np.abs(rng.standard_normal(2000)) * 0.1
    beyond = 3 * np.quantile(reference, 0.999) + np.abs(rng.standard_normal(2000))
    assert assess_psi(reference, beyond) == pytest.approx(assess_psi(reference, stormy), rel=0.05)
    assert assess_tail_share(reference, stormy) < 0.05
    assert assess_tail_share(reference, beyond) == 1.0


def test_the_share_is_the_most_extreme_symbols() -> None:
    """One of four symbols wholly beyond, three calm: a quarter of the pooled rows, all of that
    symbol's."""
    beyond = np.tile([False, False, True, False], 50)
    groups = np.tile([1, 2, 3, 4], 50)
    assert summarize_tail(beyond) == 0.25
    assert summarize_tail(beyond, groups) == 1.0


def test_a_symbol_with_few_rows_weighs_by_its_rows() -> None:
    """A symbol just added, 2 rows both beyond, beside one with 98 calm rows: its count over the
    rows per symbol (50), not a whole window's worth."""
    beyond = np.array([False] * 98 + [True, True])
    groups = np.array([1] * 98 + [2, 2])
    assert summarize_tail(beyond, groups) == pytest.approx(2 / 50)


def test_psi_reaches_its_reach_only_with_every_value_in_the_least_filled_bin() -> None:
    """The reach is the PSI of a window whose values all sit in one outermost decile (the
    reference's deciles fill each bin alike, up to ties), and no other window exceeds it."""
    rng = np.random.default_rng(9)
    reference = rng.standard_normal(2000)
    reach = assess_psi_reach(reference)
    assert reach == pytest.approx(assess_psi(reference, np.full(50, 10.0)), rel=1e-3)
    assert 8.0 < reach < 8.5
    windows = [rng.standard_normal(50) * rng.uniform(0.1, 5.0) + rng.uniform(-3, 3)
               for _ in range(500)]  # fmt: skip
    assert max(assess_psi(reference, w) for w in windows) <= reach

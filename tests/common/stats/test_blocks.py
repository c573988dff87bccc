"""Time-block means: hand-computed values and properties (order within blocks is irrelevant)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from levibot_common.stats.blocks import compute_block_means, plan_block_seconds


def test_block_length_is_horizon_plus_feature_window_rounded_up() -> None:
    assert plan_block_seconds(60, 300) == 360.0
    assert plan_block_seconds(60.2, 0) == 61.0


@pytest.mark.parametrize(("horizon", "window"), [(-1, 10), (0, 0), (float("nan"), 10)])
def test_block_length_rejects_impossible_windows(horizon: float, window: float) -> None:
    with pytest.raises(ValueError, match="blocks"):
        plan_block_seconds(horizon, window)


def test_block_means_by_hand() -> None:
    t = np.array([11.0, 0.0, 1.0, 2.0, 5.0, 6.0])
    v = np.array([10.0, 1.0, 2.0, 3.0, 4.0, 6.0])
    blocks = compute_block_means(t, v, 5.0)
    assert blocks.starts.tolist() == [0.0, 5.0, 10.0]
    assert blocks.means.tolist() == [2.0, 5.0, 10.0]
    assert blocks.counts.tolist() == [3, 2, 1]
    assert (blocks.n, blocks.n_eff) == (6, 3)


def test_unfinished_blocks_are_left_out_and_empty_blocks_absent() -> None:
    t = np.array([0.0, 1.0, 12.0, 21.0])
    blocks = compute_block_means(t, np.array([1.0, 3.0, 5.0, 7.0]), 5.0, until_s=24.0)
    assert blocks.starts.tolist() == [0.0, 10.0]
    assert blocks.means.tolist() == [2.0, 5.0]


def test_blocks_are_anchored_at_the_origin() -> None:
    blocks = compute_block_means(np.array([2.0, 4.0]), np.array([1.0, 3.0]), 5.0, origin_s=3.0)
    assert blocks.starts.tolist() == [-2.0, 3.0]


def test_mismatched_or_non_finite_inputs_are_rejected() -> None:
    with pytest.raises(ValueError, match="same length"):
        compute_block_means(np.array([0.0, 1.0]), np.array([1.0]), 5.0)
    with pytest.raises(ValueError, match="finite"):
        compute_block_means(np.array([0.0]), np.array([np.nan]), 5.0)
    with pytest.raises(ValueError, match="block_seconds"):
        compute_block_means(np.array([0.0]), np.array([1.0]), 0.0)


_rows = st.lists(st.tuples(st.floats(0, 1e4), st.floats(-1e3, 1e3)), min_size=1, max_size=60)


@settings(max_examples=60, deadline=None)
@given(rows=_rows, seed=st.integers(0, 2**32 - 1), length=st.floats(0.5, 500))
def test_block_means_do_not_depend_on_row_order(
    rows: list[tuple[float, float]], seed: int, length: float
) -> None:
    t, v = (np.array(c) for c in zip(*rows, strict=True))
    order = np.random.default_rng(seed).permutation(len(t))
    a, b = compute_block_means(t, v, length), compute_block_means(t[order], v[order], length)
    np.testing.assert_array_equal(a.starts, b.starts)
    np.testing.assert_array_equal(a.counts, b.counts)
    np.testing.assert_allclose(a.means, b.means, rtol=1e-9, atol=1e-9)
    assert a.n == len(t)
    assert np.all(np.diff(a.starts) > 0)
    np.testing.assert_allclose((a.means * a.counts).sum(), v.sum(), rtol=1e-9, atol=1e-6)

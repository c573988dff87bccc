"""Labels, dropped rows and the leakage-free time split (pure)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from levibot_trainer.core.dataset import (
    REFERENCE_THIN_SECONDS,
    Rows,
    build_labels,
    build_reference_sample,
    build_rows,
    build_symbol_rows,
    plan_split,
)


def test_labels_compare_the_price_one_horizon_later() -> None:
    labels = build_labels(np.array([1.0, 2.0, 2.0, 1.0, 5.0]), 2)
    np.testing.assert_array_equal(labels[:3], [1.0, 0.0, 1.0])
    assert np.isnan(labels[3:]).all()


def test_rows_drop_and_count_incomplete_windows_and_missing_labels() -> None:
    closes = 100 * np.exp(np.cumsum(np.random.default_rng(0).normal(0, 1e-3, 1000)))
    rows = build_symbol_rows(np.arange(1000, dtype=np.int64), closes, ["ret_1m", "rsi_14"], 60)
    assert rows.dropped_incomplete == 300
    assert rows.dropped_unlabelled == 60
    assert rows.size == 1000 - 300 - 60
    assert rows.t[0] == 300
    assert rows.t[-1] == 1000 - 61
    assert not np.isnan(rows.x).any()


def test_rows_of_symbols_merge_in_time_order() -> None:
    closes = np.linspace(100, 110, 400)
    a = build_symbol_rows(np.arange(0, 400, dtype=np.int64), closes, ["ret_1m"], 10)
    b = build_symbol_rows(np.arange(50, 450, dtype=np.int64), closes, ["ret_1m"], 10)
    merged = build_rows([a, b], 1)
    assert merged.size == a.size + b.size
    assert (np.diff(merged.t) >= 0).all()
    assert merged.dropped_incomplete == 600


@given(
    n=st.integers(50, 3000),
    fraction=st.floats(0.05, 0.5),
    horizon=st.integers(1, 600),
    extra=st.integers(0, 300),
)
def test_no_training_label_reaches_into_the_test_period(
    n: int, fraction: float, horizon: int, extra: int
) -> None:
    t = np.sort(np.random.default_rng(n).integers(0, 5000, n)).astype(np.int64)
    split = plan_split(t, fraction, horizon + extra)
    assert not (split.train & split.test).any()
    assert split.test.any()
    if split.train.any():
        assert t[split.train].max() + horizon < t[split.test].min()
    assert split.test.sum() >= fraction * n - 1


def test_reference_sample_is_one_row_per_symbol_and_minute_newest_and_bounded() -> None:
    # two symbols, one row per second each, 20 minutes
    t = np.repeat(np.arange(6000, 7200, dtype=np.int64), 2)
    x = np.stack([t.astype(np.float64), np.tile([0.0, 1.0], 1200)], axis=1)
    rows = Rows(t, x, np.zeros(t.size, dtype=np.int64), 0, 0)
    sample = build_reference_sample(rows, 2000)
    assert set(sample[:, 0] % REFERENCE_THIN_SECONDS) == {0.0}
    assert sample.shape == (2 * 20, 2)  # seconds 6000, 6060, ..., 7140 of both symbols
    assert set(sample[:, 1]) == {0.0, 1.0}
    newest = build_reference_sample(rows, 3)
    np.testing.assert_array_equal(newest, sample[-3:])
    assert newest[:, 0].min() == 7080.0


@pytest.mark.parametrize("size", [0])
def test_empty_split(size: int) -> None:
    split = plan_split(np.zeros(size, dtype=np.int64), 0.2, 60)
    assert split.train.size == 0

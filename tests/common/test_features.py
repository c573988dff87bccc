"""Feature definitions against a naive per-row reading of docs/contracts.md."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from levibot_common.features import (
    FEATURES,
    LOOKBACK_SECONDS,
    UnknownFeatureError,
    feature_matrix,
    latest_features,
    lookback_seconds,
    validate_feature_names,
)


def naive_row(p: list[float], t: int) -> list[float]:
    """The contract's table, one timestamp at a time, in plain Python."""
    logr = [math.log(p[i] / p[i - 1]) for i in range(t - 299, t + 1)]

    def pstd(xs: list[float]) -> float:
        mean = sum(xs) / len(xs)
        return math.sqrt(sum((x - mean) ** 2 for x in xs) / len(xs))

    changes = [p[i] - p[i - 1] for i in range(t - 13, t + 1)]
    gains = sum(c for c in changes if c > 0)
    losses = -sum(c for c in changes if c < 0)
    rsi = 50.0 if gains + losses == 0 else 100 * gains / (gains + losses)
    last60 = p[t - 59 : t + 1]
    sd = pstd(last60)
    z = 0.0 if sd == 0 else (p[t] - sum(last60) / 60) / sd
    return [p[t] / p[t - 60] - 1, p[t] / p[t - 300] - 1, pstd(logr[-60:]), pstd(logr), rsi, z]


def random_walk(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 100.0 * np.exp(np.cumsum(rng.normal(0, 1e-3, n)))


def test_names_and_lookback_are_the_contract() -> None:
    assert FEATURES == ("ret_1m", "ret_5m", "vol_1m", "vol_5m", "rsi_14", "zscore_60")
    assert LOOKBACK_SECONDS == 301


def test_matrix_matches_the_contract_definitions() -> None:
    prices = random_walk(700)
    matrix = feature_matrix(prices)
    for t in (300, 301, 450, 699):
        np.testing.assert_allclose(matrix[t], naive_row(prices.tolist(), t), rtol=1e-9, atol=1e-12)


def test_incomplete_windows_are_nan_rows() -> None:
    matrix = feature_matrix(random_walk(400))
    assert matrix.shape == (400, 6)
    assert np.isnan(matrix[:300]).all()
    assert not np.isnan(matrix[300:]).any()


def test_selected_names_keep_their_order() -> None:
    prices = random_walk(400)
    full = feature_matrix(prices)
    picked = feature_matrix(prices, ["zscore_60", "ret_1m"])
    np.testing.assert_array_equal(picked, full[:, [5, 0]])


def test_flat_prices_give_neutral_rsi_and_zero_zscore() -> None:
    row = latest_features(np.full(301, 5.0))
    assert row is not None
    np.testing.assert_array_equal(row, [0.0, 0.0, 0.0, 0.0, 50.0, 0.0])


def test_invalid_prices_poison_only_the_windows_that_touch_them() -> None:
    prices = random_walk(1000)
    prices[500] = np.nan
    prices[501] = -1.0
    matrix = feature_matrix(prices)
    touched = np.arange(1000)
    expect_nan = (touched < 300) | ((touched >= 500) & (touched <= 801))
    np.testing.assert_array_equal(np.isnan(matrix).all(axis=1), expect_nan)
    assert latest_features(prices[:700]) is None


def test_latest_is_none_when_too_short() -> None:
    assert latest_features(random_walk(300)) is None


@settings(max_examples=25, deadline=None)
@given(n=st.integers(min_value=301, max_value=9000), seed=st.integers(0, 1000))
def test_latest_equals_the_last_matrix_row_exactly(n: int, seed: int) -> None:
    prices = random_walk(n, seed)
    row = latest_features(prices)
    assert row is not None
    np.testing.assert_array_equal(row, feature_matrix(prices)[-1])


def test_chunked_matrix_equals_rowwise_latest() -> None:
    prices = random_walk(20_000, 3)
    matrix = feature_matrix(prices)
    for t in (300, 8491, 8492, 16_000, 19_999):  # around the chunk edge too
        np.testing.assert_array_equal(latest_features(prices[: t + 1]), matrix[t])


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["ret_1m", "ret_2m"], "unknown feature 'ret_2m'"),
        ([], "at least one"),
        (["ret_1m", "ret_1m"], "repeated"),
        ("ret_1m", "single string"),
    ],
)
def test_bad_names_are_rejected_naming_the_field(names: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        validate_feature_names(names)
    assert str(caught.value).startswith("features:")


def test_unknown_feature_error_is_a_value_error_with_the_name() -> None:
    with pytest.raises(UnknownFeatureError) as caught:
        feature_matrix(random_walk(400), ["momentum"])
    assert caught.value.name == "momentum"


def test_two_dimensional_input_is_rejected() -> None:
    with pytest.raises(ValueError, match="closes: expected a 1-D"):
        feature_matrix(np.ones((301, 2)))


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (("ret_1m",), 61),
        (("vol_1m",), 61),
        (("zscore_60",), 60),
        (("rsi_14",), 15),
        (("ret_5m",), 301),
        (("vol_5m",), 301),
        (("ret_1m", "vol_1m", "rsi_14", "zscore_60"), 61),  # the demo's feature set
        (("rsi_14", "zscore_60"), 60),
        (FEATURES, LOOKBACK_SECONDS),
    ],
)
def test_lookback_is_the_longest_window_of_the_selected_features(
    names: tuple[str, ...], expected: int
) -> None:
    assert lookback_seconds(names) == expected


def test_lookback_rejects_what_the_feature_list_rejects() -> None:
    with pytest.raises(UnknownFeatureError):
        lookback_seconds(["ret_2m"])
    with pytest.raises(ValueError, match="at least one"):
        lookback_seconds([])


@given(st.integers(min_value=0, max_value=5), st.integers(min_value=0, max_value=10**6))
@settings(max_examples=30, deadline=None)
def test_a_feature_does_not_depend_on_prices_older_than_its_lookback(index: int, seed: int) -> None:
    """Changing every price older than a feature's look-back leaves its value unchanged."""
    name = FEATURES[index]
    prices = random_walk(LOOKBACK_SECONDS + 5, seed)
    changed = prices.copy()
    keep = lookback_seconds([name])
    changed[: len(prices) - keep] *= 1.7
    before = latest_features(prices, [name])
    after = latest_features(changed, [name])
    assert before is not None
    assert after is not None
    np.testing.assert_allclose(after, before, rtol=1e-9)
    changed[len(prices) - keep] *= 1.3  # while its oldest price does change it
    moved = latest_features(changed, [name])
    assert moved is not None
    assert not np.allclose(moved, before, rtol=1e-12)

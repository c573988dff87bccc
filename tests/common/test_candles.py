"""1-second closes: the pure fill step, and date_bin reads against real PostgreSQL."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from levibot_common.candles import build_filled_closes, fetch_closes, iter_closes
from tests.trainer.support.db import T0, at, connect_with_schema, insert_ticks

E0 = int(T0.timestamp())


def test_fill_carries_the_last_close_over_empty_seconds() -> None:
    seconds, closes = build_filled_closes([10, 13], [1.0, 2.0], 10, 15, None)
    np.testing.assert_array_equal(seconds, np.arange(10, 16))
    np.testing.assert_array_equal(closes, [1.0, 1.0, 1.0, 2.0, 2.0, 2.0])


def test_fill_starts_at_the_first_price_without_a_carry() -> None:
    seconds, closes = build_filled_closes([12], [3.0], 10, 13, None)
    np.testing.assert_array_equal(seconds, [12, 13])
    np.testing.assert_array_equal(closes, [3.0, 3.0])


def test_fill_uses_the_carry_before_the_first_tick() -> None:
    _, closes = build_filled_closes([12], [3.0], 10, 13, 7.0)
    np.testing.assert_array_equal(closes, [7.0, 7.0, 3.0, 3.0])


def test_fill_is_empty_without_any_price() -> None:
    seconds, closes = build_filled_closes([], [], 10, 13, None)
    assert seconds.size == 0
    assert closes.size == 0


@pytest.mark.postgres
async def test_closes_take_the_last_tick_of_each_second(pg_dsn: str) -> None:
    conn = await connect_with_schema(pg_dsn)
    try:
        await insert_ticks(conn, "BTC", [(0.1, 10.0), (0.9, 11.0), (3.5, 12.0), (4.0, 13.0)])
        await insert_ticks(conn, "ETH", [(1.0, 99.0)])
        seconds, closes = await fetch_closes(conn, "BTC", at(0), at(5.7))
    finally:
        await conn.close()
    np.testing.assert_array_equal(seconds, E0 + np.arange(6))
    np.testing.assert_array_equal(closes, [11.0, 11.0, 11.0, 12.0, 13.0, 13.0])


@pytest.mark.postgres
async def test_closes_carry_a_tick_from_before_the_range(pg_dsn: str) -> None:
    conn = await connect_with_schema(pg_dsn)
    try:
        await insert_ticks(conn, "BTC", [(0.5, 10.0), (5.2, 20.0)])
        seconds, closes = await fetch_closes(conn, "BTC", at(3), at(6))
        empty = await fetch_closes(conn, "NOPE", at(0), at(6))
    finally:
        await conn.close()
    np.testing.assert_array_equal(seconds, E0 + np.arange(3, 7))
    np.testing.assert_array_equal(closes, [10.0, 10.0, 20.0, 20.0])
    assert empty[1].size == 0


@pytest.mark.postgres
async def test_chunks_concatenate_to_the_single_read(pg_dsn: str) -> None:
    rng = np.random.default_rng(1)
    times = np.sort(rng.uniform(0, 500, 300))
    conn = await connect_with_schema(pg_dsn)
    try:
        await insert_ticks(conn, "BTC", list(zip(times, rng.uniform(1, 2, 300), strict=True)))
        whole = await fetch_closes(conn, "BTC", at(0), at(520))
        parts = [part async for part in iter_closes(conn, "BTC", at(0), at(520), 37)]
    finally:
        await conn.close()
    assert all(part[0].size <= 37 for part in parts)
    np.testing.assert_array_equal(np.concatenate([p[0] for p in parts]), whole[0])
    np.testing.assert_array_equal(np.concatenate([p[1] for p in parts]), whole[1])


async def test_naive_timestamps_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await fetch_closes(None, "BTC", datetime(2025, 1, 1), datetime(2025, 1, 2))


def test_fill_repeats_the_carry_over_a_silent_range() -> None:
    seconds, closes = build_filled_closes([], [], 10, 12, 4.0)
    np.testing.assert_array_equal(seconds, [10, 11, 12])
    np.testing.assert_array_equal(closes, [4.0, 4.0, 4.0])

"""Synthetic ticks: determinism, the documented structure, the loader and the CLI."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from numpy.typing import NDArray

from levibot_common.seed import SeedSpec, build_ticks, run_live
from levibot_common.seed.cli import main
from levibot_common.seed.generator import DRIFT_VOL_FACTOR, build_log_path, build_rng
from tests.trainer.support.db import connect_with_schema

SPEC = SeedSpec("BTCUSDT", 1_700_000_000.0, 3600, seed=7)


def test_same_seed_same_ticks_other_seed_other_ticks() -> None:
    a, b = build_ticks(SPEC), build_ticks(SPEC)
    c = build_ticks(SeedSpec("BTCUSDT", SPEC.start_epoch, 3600, seed=8))
    np.testing.assert_array_equal(a.price, b.price)
    np.testing.assert_array_equal(a.epoch, b.epoch)
    assert a.price.size != c.price.size or not np.array_equal(a.price, c.price)


def test_ticks_are_ordered_positive_and_at_the_rate() -> None:
    ticks = build_ticks(SPEC)
    assert (np.diff(ticks.epoch) >= 0).all()
    assert ticks.epoch[0] >= SPEC.start_epoch
    assert ticks.epoch[-1] < SPEC.start_epoch + 3600
    assert (ticks.price > 0).all()
    assert (ticks.qty > 0).all()
    assert 0.9 * 7200 < ticks.epoch.size < 1.1 * 7200


def test_drift_raises_the_volatility_from_its_time_on() -> None:
    drift_at = SPEC.start_epoch + 1800
    drifted = build_ticks(SeedSpec("BTCUSDT", SPEC.start_epoch, 3600, 7, drift_from_epoch=drift_at))
    plain = build_ticks(SPEC)
    late = plain.epoch >= drift_at + 10
    ratio = np.std(np.diff(np.log(drifted.price[late]))) / np.std(
        np.diff(np.log(plain.price[late]))
    )
    assert ratio == pytest.approx(DRIFT_VOL_FACTOR, rel=0.1)
    early = plain.epoch < drift_at - 10
    np.testing.assert_array_equal(drifted.price[early], plain.price[early])


def test_after_the_drift_the_momentum_reverses() -> None:
    """Before the drift the last minute's return and the next 10 s' share the trend's sign;
    after it, the market leans against its last minute (bench/drift_loop.py)."""

    def momentum(path: NDArray[np.float64]) -> float:
        past, future = path[60:-10] - path[:-70], path[70:] - path[60:-10]
        return float(np.corrcoef(past[::5], future[::5])[0, 1])

    hours = 6 * 3600
    spec = SeedSpec("BTCUSDT", 0.0, 2 * hours, 7, regime_seconds=0, drift_from_epoch=hours)
    path, _ = build_log_path(spec, build_rng(spec))
    assert momentum(path[:hours]) > 0.1
    assert momentum(path[hours + 60 :]) < -0.15


def test_without_regimes_the_volatility_stays_at_its_base() -> None:
    def hourly_vol(spec: SeedSpec) -> NDArray[np.float64]:
        _, sigma = build_log_path(spec, build_rng(spec))
        return np.asarray([sigma[i : i + 3600].mean() for i in range(0, spec.seconds, 3600)])

    regimes = hourly_vol(SeedSpec("BTCUSDT", 0.0, 6 * 3600, seed=7))
    flat = hourly_vol(SeedSpec("BTCUSDT", 0.0, 6 * 3600, seed=7, regime_seconds=0))
    assert np.ptp(regimes) > 0.2e-4  # calm, normal and stormy hours differ
    np.testing.assert_allclose(flat, SPEC.base_vol)


def test_bad_specs_name_the_field() -> None:
    with pytest.raises(ValueError, match="seconds: must be positive"):
        SeedSpec("X", 0.0, 0, 1)
    with pytest.raises(ValueError, match="ticks_per_second"):
        SeedSpec("X", 0.0, 10, 1, ticks_per_second=0)
    with pytest.raises(ValueError, match="regime_seconds"):
        SeedSpec("X", 0.0, 10, 1, regime_seconds=-1)


@pytest.mark.postgres
def test_cli_loads_history_deterministically(
    pg_dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--dsn", pg_dsn, "--symbols", "BTCUSDT,ETHUSDT", "--hours", "0.5", "--seed", "3",
            "--end", "2025-01-01T00:00:00+00:00"]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "ticks for BTCUSDT, ETHUSDT" in out
    count = int(out.split()[1])
    expected = sum(
        build_ticks(SeedSpec(s, 1735689600.0 - 1800, 1800, 3)).epoch.size
        for s in ("BTCUSDT", "ETHUSDT")
    )
    assert count == expected


def test_cli_rejects_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--dsn", "postgresql://x@127.0.0.1:1/x", "--hours", "-1"]) == 2
    assert "hours: must be positive" in capsys.readouterr().err
    assert main(["--dsn", "postgresql://x@127.0.0.1:1/x", "--end", "yesterday"]) == 2
    assert "end: not an ISO 8601 time" in capsys.readouterr().err
    assert main(["--dsn", "postgresql://x@127.0.0.1:1/x", "--hours", "0"]) == 2
    assert "0 only with --live" in capsys.readouterr().err


@pytest.mark.postgres
def test_cli_live_only_appends_without_history(
    pg_dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # The demo restarts the live feed (e.g. with --drift-from) without reloading history.
    args = ["--dsn", pg_dsn, "--symbols", "BTCUSDT", "--hours", "0", "--live",
            "--live-seconds", "2.5", "--ticks-per-second", "20"]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("seed-data: 0 ticks for BTCUSDT; live: ")
    assert int(out.rsplit(" ", 2)[-2]) > 0


@pytest.mark.postgres
async def test_live_mode_appends_ticks_as_time_passes(pg_dsn: str) -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC).timestamp()
    clock = {"now": start}

    async def fake_sleep(seconds: float) -> None:
        clock["now"] += seconds * 300  # each loop advances five minutes: crosses block edges

    conn = await connect_with_schema(pg_dsn)
    try:
        spec = SeedSpec("BTCUSDT", start, 1, 5)
        report = await run_live(conn, [spec], lambda: clock["now"], fake_sleep, max_seconds=1500)
        rows = await conn.fetchrow("SELECT count(*), max(ts) FROM market_ticks")
    finally:
        await conn.close()
    assert rows[0] == report.total
    assert 0.9 * 2 * 1200 < report.total < 1.1 * 2 * 1200  # the last loop ran at +1200 s
    assert start + 1100 < rows[1].timestamp() <= start + 1200


async def test_the_live_feed_reconnects_after_a_copy_cut_by_a_server_restart(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A database restart mid-COPY can leave asyncpg's protocol reporting an
    InternalClientError instead of a lost connection: the feed reconnects all the same."""
    import asyncpg

    from levibot_common.seed import cli

    class Conn:
        async def close(self) -> None:
            return None

    async def connect(*_: object, **__: object) -> Conn:
        return Conn()

    calls: list[int] = []

    async def live(*_: object) -> object:
        calls.append(1)
        if len(calls) == 1:
            raise asyncpg.exceptions.InternalClientError("cannot switch to state 21")
        return type("Report", (), {"total": 7})()

    monkeypatch.setattr(cli.asyncpg, "connect", connect)
    monkeypatch.setattr(cli, "run_live", live)
    spec = SeedSpec("BTCUSDT", 0.0, 1, 1)
    command = cli.SeedCommand("postgresql://x", ("BTCUSDT",), 0, 0.0, spec, True, 60.0)
    assert await cli.run_live_resilient(command, [spec]) == 7
    assert len(calls) == 2

"""Acceptance: bad inputs give a clear message and their own exit code; nothing half-registered."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from levibot_devstack.services import PostgresServer
from levibot_trainer.errors import DatabaseUnreachableError
from levibot_trainer.io.market import fetch_connection
from tests.trainer.support.cli import END, registry_count, run_train, train_args
from tests.trainer.support.db import connect_with_schema, seed_ticks

pytestmark = pytest.mark.postgres


async def prepare(dsn: str, ticks: bool, bad_price: float | None = None) -> None:
    conn = await connect_with_schema(dsn)
    try:
        if ticks:
            end = datetime.fromisoformat(END)
            await seed_ticks(conn, ["BTCUSDT"], end=end, seconds=2 * 3600, seed=5, signal=0.1)
        if bad_price is not None:
            await conn.execute(
                "UPDATE market_ticks SET price = $1 WHERE ctid IN "
                "(SELECT ctid FROM market_ticks ORDER BY ts LIMIT 3 OFFSET 5000)",
                bad_price,
            )
    finally:
        await conn.close()


@dataclass(frozen=True)
class Case:
    """A bad input and what the trainer must answer."""

    ticks: bool
    bad_price: float | None
    flags: dict[str, str]
    code: int
    reason: str
    message: str


CASES = {
    "empty table": Case(False, None, {}, 3, "insufficient_data", "no ticks for 'BTCUSDT'"),
    "missing symbol": Case(
        True, None, {"symbols": '["XRPUSDT"]'}, 3, "insufficient_data", "no ticks for 'XRPUSDT'"
    ),
    "window shorter than one feature window": Case(
        True, None, {"data_window_seconds": "300"}, 2, "bad_config", "data_window_seconds"
    ),
    "window too short to train": Case(
        True, None, {"data_window_seconds": "900"}, 3, "insufficient_data", "train /"
    ),
    "NaN price": Case(True, float("nan"), {}, 3, "invalid_data", "3 ticks of 'BTCUSDT' are NaN"),
    "negative price": Case(True, -1.0, {}, 3, "invalid_data", "non-positive"),
    "unknown feature": Case(
        True, None, {"features": '["ret_1m", "alpha"]'}, 2, "bad_config", "unknown feature 'alpha'"
    ),
    "unknown hyperparameter": Case(
        True, None, {"hyperparameters": '{"depth": 2}'}, 2, "bad_config", "hyperparameters.depth"
    ),
    "hyperparameter value the estimator rejects": Case(
        True, None, {"hyperparameters": '{"C": -1.0}'}, 2, "bad_config", "hyperparameters.C:"
    ),
    "parity failure": Case(
        True, None, {"parity_tolerance": "1e-12"}, 5, "parity_failure", "differs from scikit"
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_input_exit_codes(pg_dsn: str, tmp_path: Path, case: Case) -> None:
    ticks, bad_price, flags = case.ticks, case.bad_price, case.flags
    code, reason, message = case.code, case.reason, case.message
    asyncio.run(prepare(pg_dsn, ticks, bad_price))
    result = tmp_path / "result.json"
    exit_code, document = run_train(train_args(pg_dsn, result, **flags), result)
    assert (exit_code, document["exitCode"]) == (code, code)
    assert document["status"] == "error"
    assert document["reason"] == reason
    assert message in document["message"]
    assert asyncio.run(registry_count(pg_dsn)) == 0


def test_wrong_database_name_is_unreachable(pg_dsn: str, tmp_path: Path) -> None:
    wrong = pg_dsn.rsplit("/", 1)[0] + "/no_such_database"
    result = tmp_path / "result.json"
    code, document = run_train(train_args(wrong, result), result)
    assert code == 4
    assert document["reason"] == "database_unreachable"
    assert "no_such_database" in document["message"]
    assert "refused" in document["message"]


def test_malformed_dsn_is_bad_config(tmp_path: Path) -> None:
    result = tmp_path / "result.json"
    code, document = run_train(train_args("postgresql://x@host:notaport/db", result), result)
    assert code == 2
    assert document["message"].startswith("dsn:")


async def test_unreachable_server_is_retried_a_bounded_number_of_times() -> None:
    delays: list[float] = []

    async def record(delay: float) -> None:
        delays.append(delay)

    with pytest.raises(DatabaseUnreachableError, match="unreachable after 3 attempts"):
        await fetch_connection("postgresql://x@127.0.0.1:1/db", 3, 0.5, 2.0, record)
    assert delays == [0.5, 1.0]


def test_a_stopped_server_exits_4(pg_server: PostgresServer, pg_dsn: str, tmp_path: Path) -> None:
    result = tmp_path / "result.json"
    pg_server.stop()
    try:
        code, document = run_train(train_args(pg_dsn, result), result)
    finally:
        pg_server.start()
    assert code == 4
    assert "after 2 attempts" in document["message"]

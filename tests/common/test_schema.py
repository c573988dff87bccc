"""Schema: idempotent, concurrent-safe, and the CLI's exit codes."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from levibot_common.schema import apply_schema, main

pytestmark = pytest.mark.postgres


async def test_schema_applies_repeatedly_and_concurrently(pg_dsn: str) -> None:
    conns = [await asyncpg.connect(pg_dsn) for _ in range(3)]
    try:
        await asyncio.gather(*(apply_schema(c) for c in conns))
        await apply_schema(conns[0])
        tables = await conns[0].fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        )
        with pytest.raises(asyncpg.CheckViolationError):
            await conns[0].execute(
                "INSERT INTO model_registry (model_name, version, status, onnx, sha256) "
                "VALUES ('m', 'v1', 'shadow', '', '')"
            )
    finally:
        for conn in conns:
            await conn.close()
    assert [r[0] for r in tables] == [
        "market_ticks", "model_registry", "prediction_log", "shadow_pairs",
    ]  # fmt: skip


def test_cli_applies_the_schema(pg_dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--dsn", pg_dsn]) == 0
    assert "applied" in capsys.readouterr().out


def test_cli_exit_codes_for_missing_and_unreachable_dsn(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("LEVIBOT_DSN", raising=False)
    assert main([]) == 2
    assert "dsn: required" in capsys.readouterr().err
    assert main(["--dsn", "postgresql://nobody@127.0.0.1:1/none"]) == 4
    assert "unreachable" in capsys.readouterr().err

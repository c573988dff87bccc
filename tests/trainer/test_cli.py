"""The trainer CLI's subcommands: schema and seed-data share the common commands."""

from __future__ import annotations

import asyncio

import pytest

from levibot_trainer.cli import main
from tests.trainer.support.cli import registry_count


def test_unknown_or_missing_subcommand_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["fit"]) == 2
    assert "train,seed-data,schema" in capsys.readouterr().err


@pytest.mark.postgres
def test_schema_and_seed_data_subcommands(pg_dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--dsn", pg_dsn]) == 0
    assert asyncio.run(registry_count(pg_dsn)) == 0  # the table exists and is empty
    args = ["seed-data", "--dsn", pg_dsn, "--symbols", "SOLUSDT", "--hours", "0.1", "--seed", "2"]
    assert main(args) == 0
    assert "ticks for SOLUSDT" in capsys.readouterr().out

"""Running the trainer's CLI in tests and reading what it left behind."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import asyncpg

from levibot_common.registry import ModelVersion, fetch_version, list_versions
from levibot_trainer.cli import main

END = "2025-03-01T00:00:00+00:00"


def train_args(dsn: str, result: Path, **flags: str) -> list[str]:
    """``train`` arguments for the seeded window ending at END, with flag overrides."""
    values = {
        "dsn": dsn, "model-name": "ns.md", "version": "v1", "symbols": '["BTCUSDT"]',
        "data-window-seconds": "7200", "end-time": END, "result-path": str(result),
        "db-connect-attempts": "2", "db-retry-delay-seconds": "0",
    }  # fmt: skip
    values.update({k.replace("_", "-"): v for k, v in flags.items()})
    args = ["train"]
    for key, value in values.items():
        args += [f"--{key}", value]
    return args


def run_train(args: Sequence[str], result: Path) -> tuple[int, dict[str, Any]]:
    """Run ``python -m levibot_trainer train`` in-process; the exit code and result document."""
    code = main(list(args))
    return code, json.loads(result.read_text())


async def registry_count(dsn: str) -> int:
    """Rows in model_registry (0 when the schema is absent)."""
    conn = await asyncpg.connect(dsn)
    try:
        exists = await conn.fetchval("SELECT to_regclass('model_registry') IS NOT NULL")
        return int(await conn.fetchval("SELECT count(*) FROM model_registry")) if exists else 0
    finally:
        await conn.close()


async def read_version(dsn: str, model_name: str, version: str) -> ModelVersion:
    """One registry version."""
    conn = await asyncpg.connect(dsn)
    try:
        return await fetch_version(conn, model_name, version)
    finally:
        await conn.close()


async def read_versions(dsn: str, model_name: str) -> Sequence[ModelVersion]:
    """All versions of a model."""
    conn = await asyncpg.connect(dsn)
    try:
        return await list_versions(conn, model_name)
    finally:
        await conn.close()

"""The dev stack's market database: PostgreSQL with seeded history and a live tick feed.

Tooling layer. levibot_common.seed writes the history (one seed, so every run sees the same
market) and then, as a separate process, a live feed that can drift from a given instant.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import sys
from pathlib import Path
from typing import Any

import asyncpg

from levibot_devstack.services import PostgresServer


def start_postgres(pg_dir: Path) -> PostgresServer:
    """A fresh PostgreSQL in `pg_dir`: every run starts from the same seeded state."""
    shutil.rmtree(pg_dir, ignore_errors=True)
    pg_dir.mkdir()
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(pg_dir, pw.pw_uid, pw.pw_gid)
    return PostgresServer(pg_dir).start()


def build_seed_argv(dsn: str, symbols: tuple[str, ...], seed: int, regime: float) -> list[str]:
    """levibot_common.seed for `symbols`; add --hours (history) or --live (the feed)."""
    return [
        sys.executable,
        "-m",
        "levibot_common.seed",
        "--dsn",
        dsn,
        "--symbols",
        ",".join(symbols),
        "--seed",
        str(seed),
        "--regime-seconds",
        str(regime),
    ]


def build_feed_argv(
    dsn: str, symbols: tuple[str, ...], seed: int, regime: float, drift_from: str | None
) -> list[str]:
    """The live feed; with `drift_from`, another seed and a distribution that shifts then."""
    argv = build_seed_argv(dsn, symbols, seed + (1 if drift_from else 0), regime)
    argv += ["--hours", "0", "--live"]
    return argv + (["--drift-from", drift_from] if drift_from else [])


def fetch_rows(dsn: str, query: str, *args: Any) -> list[dict[str, Any]]:
    """Rows of one query."""

    async def fetch() -> list[dict[str, Any]]:
        conn = await asyncpg.connect(dsn)
        try:
            return [dict(r) for r in await conn.fetch(query, *args)]
        finally:
            await conn.close()

    return asyncio.run(fetch())

"""PostgreSQL schema (shared I/O shell): market ticks, model registry, prediction log, shadow pairs.

``apply_schema`` is idempotent and safe to run from several processes at once (it holds a
transaction-level advisory lock). When the TimescaleDB extension can be created, ``market_ticks``
becomes a hypertable; plain PostgreSQL 15 works the same without it.

CLI: ``python -m levibot_common.schema --dsn postgresql://...`` (or env ``LEVIBOT_DSN``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

import asyncpg
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

SCHEMA_LOCK_KEY = 0x1E_B07_5C4  # advisory lock id shared by every process applying the schema

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS market_ticks (
    symbol text NOT NULL,
    ts timestamptz NOT NULL,
    price double precision NOT NULL,
    qty double precision NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS market_ticks_symbol_ts_idx ON market_ticks (symbol, ts);

CREATE TABLE IF NOT EXISTS model_registry (
    model_name text NOT NULL,
    version text NOT NULL,
    status text NOT NULL DEFAULT 'candidate'
        CHECK (status IN ('candidate', 'active', 'rejected', 'retired')),
    reason text NOT NULL DEFAULT '',
    onnx bytea NOT NULL,
    sha256 text NOT NULL,
    metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
    metrics jsonb NOT NULL DEFAULT '{}'::jsonb,
    reference jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (model_name, version)
);
CREATE INDEX IF NOT EXISTS model_registry_status_idx ON model_registry (model_name, status);

CREATE TABLE IF NOT EXISTS prediction_log (
    id bigserial PRIMARY KEY,
    model_name text NOT NULL,
    version text NOT NULL,
    track text NOT NULL,
    symbol text NOT NULL,
    ts timestamptz NOT NULL,
    p_up double precision,
    signal text NOT NULL,
    fallback boolean NOT NULL DEFAULT false,
    features jsonb,
    horizon_seconds integer NOT NULL,
    outcome smallint,
    resolved_at timestamptz
);
CREATE INDEX IF NOT EXISTS prediction_log_version_ts_idx
    ON prediction_log (model_name, version, ts);
CREATE INDEX IF NOT EXISTS prediction_log_unresolved_idx
    ON prediction_log (symbol, ts) WHERE outcome IS NULL;

CREATE TABLE IF NOT EXISTS shadow_pairs (
    model_name text PRIMARY KEY,
    stable_version text NOT NULL,
    candidate_version text NOT NULL,
    canary text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Shadow scoring columns (issue 13) and the horizon's simple return for paper trading (issue 15:
-- exit_price / entry_price - 1, set with outcome). ALTER TABLE takes an exclusive lock even when
-- the columns exist, which would queue every log insert behind a long read: alter only when one
-- is missing.
DO $$
BEGIN
    IF (SELECT count(*) FROM pg_attribute
        WHERE attrelid = 'prediction_log'::regclass AND NOT attisdropped
          AND attname IN ('shadow_version', 'shadow_p_up', 'shadow_signal',
                          'outcome_return')) < 4 THEN
        ALTER TABLE prediction_log
            ADD COLUMN IF NOT EXISTS shadow_version text,
            ADD COLUMN IF NOT EXISTS shadow_p_up double precision,
            ADD COLUMN IF NOT EXISTS shadow_signal text,
            ADD COLUMN IF NOT EXISTS outcome_return double precision;
    END IF;
END
$$;
"""

_TIMESCALE_SQL = """
CREATE EXTENSION IF NOT EXISTS timescaledb;
SELECT create_hypertable('market_ticks', 'ts', if_not_exists => TRUE, migrate_data => TRUE);
"""


async def fetch_timescale_available(conn: asyncpg.Connection) -> bool:
    """Whether the server offers the TimescaleDB extension."""
    found = await conn.fetchval(
        "SELECT count(*) FROM pg_available_extensions WHERE name = 'timescaledb'"
    )
    return bool(found)


async def apply_schema(conn: asyncpg.Connection) -> None:
    """Create the tables and indexes if missing (idempotent, concurrency-safe)."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", SCHEMA_LOCK_KEY)
        await conn.execute(SCHEMA_SQL)
    if await fetch_timescale_available(conn):
        await _apply_timescale(conn)


async def _apply_timescale(conn: asyncpg.Connection) -> None:
    """Best effort: an extension that is installed but not preloaded must not break startup."""
    try:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", SCHEMA_LOCK_KEY)
            await conn.execute(_TIMESCALE_SQL)
    except asyncpg.PostgresError as exc:
        print(f"schema: TimescaleDB present but not used: {exc}", file=sys.stderr)


class DatabaseSettings(BaseSettings):
    """Settings of the small shared commands (schema, seed-data): where the database is."""

    model_config = SettingsConfigDict(env_prefix="LEVIBOT_", extra="ignore")

    dsn: SecretStr | None = Field(
        default=None, description="PostgreSQL DSN, e.g. postgresql://user:pass@host:5432/db"
    )


async def apply_schema_at(dsn: str) -> None:
    """Connect to ``dsn`` and apply the schema."""
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await apply_schema(conn)
    finally:
        await conn.close()


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point: apply the schema; exit 2 without a DSN, 4 when unreachable."""
    parser = argparse.ArgumentParser(prog="python -m levibot_common.schema")
    parser.add_argument("--dsn", help="PostgreSQL DSN (default: env LEVIBOT_DSN)")
    args = parser.parse_args(argv)
    settings = DatabaseSettings()
    dsn = args.dsn or (settings.dsn.get_secret_value() if settings.dsn else None)
    if not dsn:
        print("schema: dsn: required (--dsn or LEVIBOT_DSN)", file=sys.stderr)
        return 2
    try:
        asyncio.run(apply_schema_at(dsn))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        print(f"schema: database unreachable: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 4
    print("schema: applied")
    return 0


if __name__ == "__main__":
    sys.exit(main())

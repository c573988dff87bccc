"""Shadow pairs in the registry (real PostgreSQL): upsert, read, clear by its own canary only."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import pytest

from levibot_common.registry import (
    ShadowPair,
    apply_shadow_pair,
    clear_shadow_pair,
    fetch_shadow_pair,
)
from levibot_common.schema import apply_schema
from tests.trainer.support.db import connect_with_schema

pytestmark = pytest.mark.postgres


async def test_a_pair_is_upserted_idempotently_and_read_back(pg_dsn: str) -> None:
    conn = await connect_with_schema(pg_dsn)
    try:
        assert await fetch_shadow_pair(conn, "ns.md") is None
        await apply_shadow_pair(conn, "ns.md", "v1", "v2", "md-v2")
        first = await fetch_shadow_pair(conn, "ns.md")
        await apply_shadow_pair(conn, "ns.md", "v1", "v2", "md-v2")
        again = await fetch_shadow_pair(conn, "ns.md")
        await apply_shadow_pair(conn, "ns.md", "v2", "v3", "md-v3")  # the next canary
        newer = await fetch_shadow_pair(conn, "ns.md")
    finally:
        await conn.close()
    assert first is not None
    assert newer is not None
    assert (first.stable_version, first.candidate_version, first.canary) == ("v1", "v2", "md-v2")
    assert again == first  # same call twice: the same row, updated_at kept
    assert (newer.stable_version, newer.candidate_version, newer.canary) == ("v2", "v3", "md-v3")
    assert newer.updated_at >= first.updated_at


async def test_clear_removes_only_the_pair_of_that_canary(pg_dsn: str) -> None:
    conn = await connect_with_schema(pg_dsn)
    try:
        await apply_shadow_pair(conn, "ns.md", "v1", "v2", "md-v2")
        await apply_shadow_pair(conn, "ns.other", "v1", "v2", "other-v2")
        assert await clear_shadow_pair(conn, "ns.md", "md-old") is False  # not its pair
        kept = await fetch_shadow_pair(conn, "ns.md")
        assert await clear_shadow_pair(conn, "ns.md", "md-v2") is True
        assert await clear_shadow_pair(conn, "ns.md", "md-v2") is False  # idempotent
        gone = await fetch_shadow_pair(conn, "ns.md")
        other = await fetch_shadow_pair(conn, "ns.other")
    finally:
        await conn.close()
    assert kept is not None
    assert kept.canary == "md-v2"
    assert gone is None
    assert other is not None


async def test_bad_pairs_are_refused_naming_the_field(pg_dsn: str) -> None:
    conn = await connect_with_schema(pg_dsn)
    try:
        with pytest.raises(ValueError, match="candidate_version: must differ"):
            await apply_shadow_pair(conn, "ns.md", "v1", "v1", "md-v1")
        with pytest.raises(ValueError, match="canary: must not be empty"):
            await apply_shadow_pair(conn, "ns.md", "v1", "v2", "")
        assert await fetch_shadow_pair(conn, "ns.md") is None
    finally:
        await conn.close()


def test_partner_of_names_the_other_side() -> None:
    pair = ShadowPair("ns.md", "v1", "v2", "md-v2", datetime(2026, 1, 1, tzinfo=UTC))
    assert (pair.partner_of("v1"), pair.partner_of("v2"), pair.partner_of("v0")) == (
        "v2", "v1", None,
    )  # fmt: skip


async def test_an_existing_log_table_gains_the_shadow_columns(pg_dsn: str) -> None:
    """A database made before shadow scoring: its rows stay, the columns appear, once."""
    conn = await asyncpg.connect(pg_dsn)
    try:
        await conn.execute(
            "CREATE TABLE prediction_log (id bigserial PRIMARY KEY, model_name text NOT NULL, "
            "version text NOT NULL, track text NOT NULL, symbol text NOT NULL, "
            "ts timestamptz NOT NULL, p_up double precision, signal text NOT NULL, "
            "fallback boolean NOT NULL DEFAULT false, features jsonb, "
            "horizon_seconds integer NOT NULL, outcome smallint, resolved_at timestamptz)"
        )
        await conn.execute(
            "INSERT INTO prediction_log (model_name, version, track, symbol, ts, p_up, signal, "
            "horizon_seconds) VALUES ('m', 'v1', 'stable', 'S', now(), 0.5, 'HOLD', 60)"
        )
        await apply_schema(conn)
        await apply_schema(conn)
        row = await conn.fetchrow(
            "SELECT version, shadow_version, shadow_p_up, shadow_signal FROM prediction_log"
        )
    finally:
        await conn.close()
    assert dict(row) == {
        "version": "v1", "shadow_version": None, "shadow_p_up": None, "shadow_signal": None,
    }  # fmt: skip

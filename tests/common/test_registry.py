"""Model registry against real PostgreSQL: register, read back, statuses, integrity."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from levibot_common.registry import (
    STATUS_ACTIVE,
    STATUS_CANDIDATE,
    STATUS_REJECTED,
    DriftReference,
    RegistryIntegrityError,
    VersionConflictError,
    VersionNotFoundError,
    fetch_version,
    list_versions,
    register_version,
    set_status,
)
from tests.trainer.support.db import connect_with_schema

pytestmark = pytest.mark.postgres

REFERENCE = DriftReference(("ret_1m", "vol_1m"), np.array([[0.1, 0.2], [0.3, 0.4]]))


async def test_a_registered_version_reads_back_whole(pg_dsn: str) -> None:
    conn = await connect_with_schema(pg_dsn)
    try:
        stored = await register_version(
            conn, model_name="ns.md", version="v1", onnx=b"model-bytes",
            metadata={"features": ["ret_1m"]}, metrics={"roc_auc": 0.6}, reference=REFERENCE,
        )  # fmt: skip
        again = await fetch_version(conn, "ns.md", "v1")
    finally:
        await conn.close()
    assert again == stored
    assert again.status == STATUS_CANDIDATE
    assert again.onnx == b"model-bytes"
    assert again.metadata == {"features": ["ret_1m"]}
    assert again.metrics == {"roc_auc": 0.6}
    assert again.reference is not None
    np.testing.assert_array_equal(again.reference.rows, REFERENCE.rows)
    assert again.reference.features == REFERENCE.features


async def test_registering_twice_is_idempotent_but_conflicts_on_new_bytes(pg_dsn: str) -> None:
    conn = await connect_with_schema(pg_dsn)
    args: dict[str, Any] = {
        "model_name": "m",
        "version": "v1",
        "metadata": {},
        "metrics": {},
        "reference": None,
    }
    try:
        first = await register_version(conn, onnx=b"a", **args)
        second = await register_version(conn, onnx=b"a", **args)
        with pytest.raises(VersionConflictError, match="already registered"):
            await register_version(conn, onnx=b"b", **args)
        versions = await list_versions(conn, "m")
    finally:
        await conn.close()
    assert first == second
    assert [v.version for v in versions] == ["v1"]


async def test_status_changes_are_idempotent_and_validated(pg_dsn: str) -> None:
    conn = await connect_with_schema(pg_dsn)
    try:
        await register_version(
            conn, model_name="m", version="v2", onnx=b"x", metadata={}, metrics={}, reference=None
        )
        await set_status(conn, "m", "v2", STATUS_ACTIVE, "promoted")
        await set_status(conn, "m", "v2", STATUS_ACTIVE, "promoted")
        active = await fetch_version(conn, "m", "v2")
        await set_status(conn, "m", "v2", STATUS_REJECTED, "ece 0.09 > 0.06")
        rejected = await fetch_version(conn, "m", "v2")
        with pytest.raises(ValueError, match="status: must be one of"):
            await set_status(conn, "m", "v2", "shadow", "")
        with pytest.raises(VersionNotFoundError):
            await set_status(conn, "m", "v9", STATUS_ACTIVE, "")
    finally:
        await conn.close()
    assert (active.status, active.reason) == ("active", "promoted")
    assert (rejected.status, rejected.reason) == ("rejected", "ece 0.09 > 0.06")


async def test_missing_and_tampered_versions_raise(pg_dsn: str) -> None:
    conn = await connect_with_schema(pg_dsn)
    try:
        with pytest.raises(VersionNotFoundError, match="m/v1"):
            await fetch_version(conn, "m", "v1")
        await register_version(
            conn,
            model_name="m",
            version="v1",
            onnx=b"good",
            metadata={},
            metrics={},
            reference=None,
        )
        await conn.execute("UPDATE model_registry SET onnx = 'evil'::bytea")
        with pytest.raises(RegistryIntegrityError, match="do not match sha256"):
            await fetch_version(conn, "m", "v1")
    finally:
        await conn.close()


def test_reference_shape_and_values_are_checked() -> None:
    with pytest.raises(ValueError, match=r"reference.rows: expected shape \(n, 2\)"):
        DriftReference(("a", "b"), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="finite"):
        DriftReference(("a",), np.array([[np.nan]]))
    with pytest.raises(ValueError, match="at most 2000"):
        DriftReference(("a",), np.zeros((2001, 1)))

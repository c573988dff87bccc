"""Model registry access (shared I/O shell over frozen values): versions of ONNX models.

A version is written once (``register_version``) with its ONNX bytes, their sha256, metadata,
metrics and drift reference sample, and then only its status and reason change
(``set_status``, idempotent). Reads verify the sha256, so a tampered or truncated model is
never served. During a canary, a shadow pair names the two versions every predictor of the
model scores. Schema: ``levibot_common.schema`` (tables ``model_registry``, ``shadow_pairs``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import asyncpg
import numpy as np
from numpy.typing import NDArray

STATUS_CANDIDATE: Final = "candidate"
STATUS_ACTIVE: Final = "active"
STATUS_REJECTED: Final = "rejected"
STATUS_RETIRED: Final = "retired"
STATUSES: Final = (STATUS_CANDIDATE, STATUS_ACTIVE, STATUS_REJECTED, STATUS_RETIRED)

MAX_REFERENCE_ROWS: Final = 2000


class RegistryError(Exception):
    """Base class of registry errors."""


class VersionNotFoundError(RegistryError, LookupError):
    """No row for (model_name, version)."""


class VersionConflictError(RegistryError):
    """(model_name, version) already holds a different model."""


class RegistryIntegrityError(RegistryError):
    """The stored ONNX bytes do not match their sha256."""


@dataclass(frozen=True)
class DriftReference:
    """A sample of training feature rows the predictor compares live features against."""

    features: tuple[str, ...]
    rows: NDArray[np.float64]

    def __post_init__(self) -> None:
        rows = np.asarray(self.rows, dtype=np.float64)
        if rows.ndim != 2 or rows.shape[1] != len(self.features):
            raise ValueError(
                f"reference.rows: expected shape (n, {len(self.features)}), got {rows.shape}"
            )
        if rows.shape[0] > MAX_REFERENCE_ROWS:
            raise ValueError(
                f"reference.rows: at most {MAX_REFERENCE_ROWS} rows, got {rows.shape[0]}"
            )
        if not bool(np.isfinite(rows).all()):
            raise ValueError("reference.rows: every value must be finite")
        object.__setattr__(self, "rows", rows)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DriftReference):
            return NotImplemented
        return self.features == other.features and bool(np.array_equal(self.rows, other.rows))

    def __hash__(self) -> int:
        return hash((self.features, self.rows.tobytes()))


@dataclass(frozen=True)
class ModelVersion:
    """One registered model version, as stored."""

    model_name: str
    version: str
    status: str
    reason: str
    sha256: str
    metadata: Mapping[str, Any]
    metrics: Mapping[str, Any]
    reference: DriftReference | None
    created_at: datetime
    onnx: bytes


def build_sha256(data: bytes) -> str:
    """Hex sha256 of the ONNX bytes."""
    return hashlib.sha256(data).hexdigest()


def parse_status(status: str) -> str:
    """The status if known; ``ValueError`` naming the field otherwise."""
    if status not in STATUSES:
        raise ValueError(f"status: must be one of {list(STATUSES)}, got {status!r}")
    return status


def build_reference_json(reference: DriftReference | None) -> str | None:
    """The reference as the JSON document stored in ``model_registry.reference``."""
    if reference is None:
        return None
    return json.dumps({"features": list(reference.features), "rows": reference.rows.tolist()})


def parse_reference_json(text: str | None) -> DriftReference | None:
    """The inverse of ``build_reference_json``."""
    if text is None:
        return None
    doc = json.loads(text)
    rows = np.asarray(doc["rows"], dtype=np.float64).reshape(-1, len(doc["features"]))
    return DriftReference(features=tuple(doc["features"]), rows=rows)


def parse_version_row(row: Mapping[str, Any]) -> ModelVersion:
    """A ``ModelVersion`` from a registry row; verifies the sha256."""
    onnx = bytes(row["onnx"])
    if build_sha256(onnx) != row["sha256"]:
        raise RegistryIntegrityError(
            f"{row['model_name']}/{row['version']}: ONNX bytes do not match sha256 {row['sha256']}"
        )
    return ModelVersion(
        model_name=row["model_name"],
        version=row["version"],
        status=row["status"],
        reason=row["reason"],
        sha256=row["sha256"],
        metadata=json.loads(row["metadata"]),
        metrics=json.loads(row["metrics"]),
        reference=parse_reference_json(row["reference"]),
        created_at=row["created_at"],
        onnx=onnx,
    )


_COLUMNS = (
    "model_name, version, status, reason, onnx, sha256, metadata::text AS metadata, "
    "metrics::text AS metrics, reference::text AS reference, created_at"
)

_INSERT_SQL = """
INSERT INTO model_registry
    (model_name, version, status, reason, onnx, sha256, metadata, metrics, reference)
VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9::jsonb)
ON CONFLICT (model_name, version) DO NOTHING
"""


async def register_version(
    conn: asyncpg.Connection,
    *,
    model_name: str,
    version: str,
    onnx: bytes,
    metadata: Mapping[str, Any],
    metrics: Mapping[str, Any],
    reference: DriftReference | None,
    status: str = STATUS_CANDIDATE,
    reason: str = "",
) -> ModelVersion:
    """Insert a version in one statement. Re-registering identical ONNX bytes returns the stored
    row (idempotent); different bytes under the same key raise ``VersionConflictError``."""
    sha = build_sha256(onnx)
    await conn.execute(
        _INSERT_SQL,
        model_name,
        version,
        parse_status(status),
        reason,
        onnx,
        sha,
        json.dumps(metadata, allow_nan=False),
        json.dumps(metrics, allow_nan=False),
        build_reference_json(reference),
    )
    stored = await fetch_version(conn, model_name, version)
    if stored.sha256 != sha:
        raise VersionConflictError(
            f"{model_name}/{version}: already registered with sha256 {stored.sha256}, not {sha}"
        )
    return stored


async def fetch_version(conn: asyncpg.Connection, model_name: str, version: str) -> ModelVersion:
    """The stored version; ``VersionNotFoundError`` or ``RegistryIntegrityError``."""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM model_registry WHERE model_name = $1 AND version = $2",
        model_name,
        version,
    )
    if row is None:
        raise VersionNotFoundError(f"{model_name}/{version}: no such model version")
    return parse_version_row(row)


async def fetch_version_exists(conn: asyncpg.Connection, model_name: str, version: str) -> bool:
    """Whether (model_name, version) has a row (no bytes are read)."""
    found = await conn.fetchval(
        "SELECT 1 FROM model_registry WHERE model_name = $1 AND version = $2", model_name, version
    )
    return found is not None


async def list_versions(conn: asyncpg.Connection, model_name: str) -> Sequence[ModelVersion]:
    """Every version of ``model_name``, oldest first."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM model_registry WHERE model_name = $1 ORDER BY created_at, version",
        model_name,
    )
    return [parse_version_row(row) for row in rows]


async def set_status(
    conn: asyncpg.Connection, model_name: str, version: str, status: str, reason: str
) -> None:
    """Set status and reason (idempotent: the same call twice leaves the same row)."""
    result = await conn.execute(
        "UPDATE model_registry SET status = $3, reason = $4, updated_at = CASE "
        "WHEN status = $3 AND reason = $4 THEN updated_at ELSE now() END "
        "WHERE model_name = $1 AND version = $2",
        model_name,
        version,
        parse_status(status),
        reason,
    )
    if result.split()[-1] == "0":
        raise VersionNotFoundError(f"{model_name}/{version}: no such model version")


@dataclass(frozen=True)
class ShadowPair:
    """The two versions of a model that score every request in shadow while ``canary`` runs."""

    model_name: str
    stable_version: str
    candidate_version: str
    canary: str
    updated_at: datetime

    def partner_of(self, version: str) -> str | None:
        """The other side of the pair when ``version`` is one side, else None."""
        if version == self.stable_version:
            return self.candidate_version
        if version == self.candidate_version:
            return self.stable_version
        return None


_UPSERT_PAIR_SQL = """
INSERT INTO shadow_pairs (model_name, stable_version, candidate_version, canary)
VALUES ($1, $2, $3, $4)
ON CONFLICT (model_name) DO UPDATE SET
    stable_version = EXCLUDED.stable_version, candidate_version = EXCLUDED.candidate_version,
    canary = EXCLUDED.canary,
    updated_at = CASE WHEN (shadow_pairs.stable_version, shadow_pairs.candidate_version,
        shadow_pairs.canary) = (EXCLUDED.stable_version, EXCLUDED.candidate_version,
        EXCLUDED.canary) THEN shadow_pairs.updated_at ELSE now() END
"""


async def apply_shadow_pair(
    conn: asyncpg.Connection, model_name: str, stable_version: str, candidate_version: str,
    canary: str,
) -> None:  # fmt: skip
    """Pair two versions of ``model_name`` for ``canary`` (idempotent upsert: one pair per
    model; the same call twice keeps ``updated_at``). ``ValueError`` naming the field."""
    for field, value in (("model_name", model_name), ("stable_version", stable_version),
                         ("candidate_version", candidate_version), ("canary", canary)):  # fmt: skip
        if not value:
            raise ValueError(f"{field}: must not be empty")
    if stable_version == candidate_version:
        raise ValueError(f"candidate_version: must differ from stable_version {stable_version!r}")
    await conn.execute(_UPSERT_PAIR_SQL, model_name, stable_version, candidate_version, canary)


async def clear_shadow_pair(conn: asyncpg.Connection, model_name: str, canary: str) -> bool:
    """Remove the pair of ``model_name`` if ``canary`` wrote it (a newer canary's pair stays);
    return whether a row went (idempotent)."""
    result = await conn.execute(
        "DELETE FROM shadow_pairs WHERE model_name = $1 AND canary = $2", model_name, canary
    )
    return str(result).split()[-1] != "0"


async def fetch_shadow_pair(conn: asyncpg.Connection, model_name: str) -> ShadowPair | None:
    """The current pair of ``model_name``, or None."""
    row = await conn.fetchrow(
        "SELECT model_name, stable_version, candidate_version, canary, updated_at "
        "FROM shadow_pairs WHERE model_name = $1",
        model_name,
    )
    return None if row is None else ShadowPair(**dict(row))

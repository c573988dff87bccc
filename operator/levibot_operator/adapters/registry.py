"""Read the registry (the version a trainer Job just produced, every version's history), and set
version statuses.

Layer: adapters. The DSN is read from the ModelDeployment's database Secret by reference at call
time (never stored); every failure becomes an observation, not an exception, so the pure core
decides (wait and retry, or fail the attempt).
"""

import asyncio
import base64
import json

import asyncpg
from kubernetes_asyncio.client import ApiClient
from kubernetes_asyncio.client.exceptions import ApiException

from levibot_common import registry
from levibot_operator.adapters.kube import fetch_object
from levibot_operator.core.fields import format_time
from levibot_operator.core.modeldeployment.history import RegistryEntry, merge_version_history
from levibot_operator.core.modeldeployment.observation import (
    REGISTRY_FOUND,
    REGISTRY_MISSING,
    REGISTRY_UNAVAILABLE,
    RegistryObservation,
)
from levibot_operator.core.modeldeployment.spec import ModelDeployment
from levibot_operator.core.modeldeployment.status import MDStatus
from levibot_operator.settings import OperatorSettings


class RegistryUnavailableError(Exception):
    """The DSN Secret or the database cannot be reached."""


async def fetch_dsn(api: ApiClient, md: ModelDeployment, settings: OperatorSettings) -> str:
    """The DSN from the MD's Secret (by reference)."""
    ref = md.spec.training.database_secret
    key = ref.key or settings.registry_dsn_secret_key
    try:
        secret = await fetch_object(api, "v1", "Secret", md.namespace, ref.name)
    except ApiException as exc:
        raise RegistryUnavailableError(f"secret {ref.name}: {exc.reason}") from exc
    encoded = ((secret or {}).get("data") or {}).get(key)
    if not encoded:
        raise RegistryUnavailableError(f"secret {ref.name} has no key {key!r}")
    return base64.b64decode(encoded).decode()


async def connect_database(
    api: ApiClient, md: ModelDeployment, settings: OperatorSettings
) -> asyncpg.Connection:
    """A connection to the MD's database (registry and prediction log); RegistryUnavailableError
    when the DSN or the connection cannot be had."""
    dsn = await fetch_dsn(api, md, settings)
    timeout = settings.registry_timeout_seconds
    try:
        return await asyncio.wait_for(asyncpg.connect(dsn, timeout=timeout), timeout)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise RegistryUnavailableError(f"database unreachable: {type(exc).__name__}") from exc


async def fetch_registered(
    api: ApiClient, md: ModelDeployment, version: str, settings: OperatorSettings
) -> RegistryObservation:
    """Whether ``version`` is registered, with its status, creation time and metrics."""
    try:
        conn = await connect_database(api, md, settings)
    except RegistryUnavailableError as exc:
        return RegistryObservation(REGISTRY_UNAVAILABLE, message=str(exc))
    try:
        found = await registry.fetch_version(conn, md.model_name, version)
    except registry.VersionNotFoundError:
        return RegistryObservation(REGISTRY_MISSING, message=f"{md.model_name}/{version} absent")
    except (registry.RegistryError, asyncpg.PostgresError, OSError) as exc:
        return RegistryObservation(REGISTRY_UNAVAILABLE, message=f"{type(exc).__name__}: {exc}")
    finally:
        await conn.close()
    metrics = {k: v for k, v in found.metrics.items() if isinstance(v, int | float | str)}
    return RegistryObservation(REGISTRY_FOUND, found.status, format_time(found.created_at), metrics)


async def fetch_highest_version(
    api: ApiClient, md: ModelDeployment, settings: OperatorSettings
) -> int:
    """The highest vN registered for this model (0 when none); raises RegistryUnavailableError."""
    conn = await connect_database(api, md, settings)
    try:
        rows = await conn.fetch(
            "SELECT version FROM model_registry WHERE model_name = $1", md.model_name
        )
    except asyncpg.UndefinedTableError:
        return 0
    except (asyncpg.PostgresError, OSError) as exc:
        raise RegistryUnavailableError(f"{type(exc).__name__}: {exc}") from exc
    finally:
        await conn.close()
    numbers = [int(r["version"][1:]) for r in rows if str(r["version"])[1:].isdigit()]
    return max(numbers, default=0)


async def patch_version_status(
    api: ApiClient,
    md: ModelDeployment,
    version: str,
    *,
    status: str,
    reason: str,
    settings: OperatorSettings,
) -> None:
    """Set a version's registry status; a missing row is ignored (nothing to mark)."""
    conn = await connect_database(api, md, settings)
    try:
        await registry.set_status(conn, md.model_name, version, status, reason)
    except registry.VersionNotFoundError:
        return
    finally:
        await conn.close()


HISTORY_SQL = (
    "SELECT version, status, reason, metrics::text AS metrics, created_at "
    "FROM model_registry WHERE model_name = $1"
)


def parse_history_row(row: asyncpg.Record) -> RegistryEntry:
    """One registry row (no model bytes) as a history entry; metrics keep scalars only."""
    metrics = json.loads(row["metrics"] or "{}")
    scalars = {k: v for k, v in metrics.items() if isinstance(v, int | float | str)}
    created = format_time(row["created_at"]) if row["created_at"] else ""
    return RegistryEntry(row["version"], row["status"], row["reason"] or "", created, scalars)


async def fetch_history(
    api: ApiClient, md: ModelDeployment, settings: OperatorSettings
) -> tuple[RegistryEntry, ...]:
    """Every registered version of the model; raises RegistryUnavailableError."""
    conn = await connect_database(api, md, settings)
    try:
        rows = await conn.fetch(HISTORY_SQL, md.model_name)
    except asyncpg.UndefinedTableError:
        return ()
    except (asyncpg.PostgresError, OSError) as exc:
        raise RegistryUnavailableError(f"{type(exc).__name__}: {exc}") from exc
    finally:
        await conn.close()
    return tuple(parse_history_row(r) for r in rows)


async def fetch_version_history(
    api: ApiClient, md: ModelDeployment, status: MDStatus, settings: OperatorSettings
) -> MDStatus:
    """``status`` with the registry's every version merged in (unchanged when unreachable: the
    registry conditions already say so)."""
    try:
        entries = await fetch_history(api, md, settings)
    except RegistryUnavailableError:
        return status
    return merge_version_history(status, entries, settings.version_history_limit)

"""Read the paired shadow rows of a canary from the prediction log; write and clear its shadow
pair in the registry.

Layer: adapters. The DSN comes from the ModelDeployment's database Secret (``registry.fetch_dsn``,
by reference at call time). During a canary every predictor of the model scores each request
with both versions (``levibot_common.registry.apply_shadow_pair`` names them), so a log row of
either version whose ``shadow_version`` is the other one is a paired comparison. The rows are
read as ``PairedRows`` for ``core.canary.judgement``: one per symbol and second (requests served
from the same feature row are one market observation; the first row logged wins), oriented
(stable, candidate) whichever version served, with the outcome as 1.0 / 0.0 or NaN while
unresolved. Rows without a symbol (features sent by a client) are left out: no market outcome
ever resolves them, and an unresolved row holds back every outcome block after it. The stable
version's retraining-noise envelope is its registry metric
``envelope_rms`` (written by the trainer; None when absent), and its paired-trading noise
``backtest.retrainNoise`` (``margin``, ``hourly``, ``returnSd``, ``positionSd``; None when
absent, as for a version trained before it). Each row also carries its trading
columns (``PairedRows.trading``, for ``core.canary.trading_checks``): both versions' signals as
sides (+1 BUY, -1 SELL, 0 HOLD; NaN when none was logged), the horizon's simple return
``outcome_return`` (NaN until resolved) and the symbol. A log from before those columns is read
without them (an empty return column: the trading checks wait).
"""

import math
from dataclasses import dataclass
from datetime import datetime

import asyncpg
import numpy as np
from kubernetes_asyncio.client import ApiClient

from levibot_common import registry as shared
from levibot_common.trading import SIDES
from levibot_operator.adapters.registry import RegistryUnavailableError, connect_database
from levibot_operator.core.canary.judgement import PairedRows
from levibot_operator.core.canary.trading_band import RetrainNoise
from levibot_operator.core.canary.trading_checks import TradingRows
from levibot_operator.core.modeldeployment.spec import ModelDeployment
from levibot_operator.settings import OperatorSettings

MAX_ROWS = 2_000_000  # one row per symbol and second: 23 days of two symbols
ENVELOPE_METRIC = "envelope_rms"

PAIRED_ROWS_SQL = """
SELECT DISTINCT ON (symbol, floor(extract(epoch FROM ts)))
    extract(epoch FROM ts)::double precision AS ts,
    CASE WHEN version = $2 THEN p_up ELSE shadow_p_up END AS p_stable,
    CASE WHEN version = $2 THEN shadow_p_up ELSE p_up END AS p_candidate,
    outcome::double precision AS outcome{trading}
FROM prediction_log
WHERE model_name = $1 AND ts >= $4 AND ts < $5 AND symbol <> ''
  AND ((version = $2 AND shadow_version = $3) OR (version = $3 AND shadow_version = $2))
  AND p_up IS NOT NULL AND shadow_p_up IS NOT NULL
ORDER BY symbol, floor(extract(epoch FROM ts)), id
LIMIT $6
"""
TRADING_COLUMNS = """,
    CASE WHEN version = $2 THEN signal ELSE shadow_signal END AS signal_stable,
    CASE WHEN version = $2 THEN shadow_signal ELSE signal END AS signal_candidate,
    outcome_return, symbol"""

ENVELOPE_SQL = """
SELECT (metrics ->> 'envelope_rms') AS envelope FROM model_registry
WHERE model_name = $1 AND version = $2
"""
RETRAIN_NOISE_KEYS = ("margin", "hourly", "returnSd", "positionSd")  # RetrainNoise's order
RETRAIN_NOISE_SQL = f"""
SELECT {", ".join(f"n ->> '{key}'" for key in RETRAIN_NOISE_KEYS)}
FROM (SELECT metrics -> 'backtest' -> 'retrainNoise' AS n FROM model_registry
      WHERE model_name = $1 AND version = $2) AS noise
"""


@dataclass(frozen=True)
class VersionPair:
    """The canary's two versions of one model."""

    model_name: str
    stable_version: str
    candidate_version: str


def _side(signal: object) -> float:
    side = SIDES.get(str(signal).upper()) if signal is not None else None
    return math.nan if side is None else float(side)


def parse_trading_rows(rows: list[asyncpg.Record]) -> TradingRows | None:
    """The trading columns of sorted records (None when the log has none)."""
    if rows and "outcome_return" not in rows[0]:
        return None

    def column(key: str) -> np.ndarray:
        values = (math.nan if r[key] is None else float(r[key]) for r in rows)
        return np.fromiter(values, dtype=np.float64, count=len(rows))

    return TradingRows(
        np.array([_side(r["signal_stable"]) for r in rows], dtype=np.float64),
        np.array([_side(r["signal_candidate"]) for r in rows], dtype=np.float64),
        column("outcome_return"),
        np.array([r["symbol"] for r in rows], dtype=object),
    )


def parse_paired_rows(rows: list[asyncpg.Record]) -> PairedRows:
    """The records as float arrays, oldest first; an unresolved outcome is NaN."""
    rows = sorted(rows, key=lambda r: float(r["ts"]))

    def column(key: str) -> np.ndarray:
        values = (math.nan if r[key] is None else float(r[key]) for r in rows)
        return np.fromiter(values, dtype=np.float64, count=len(rows))

    return PairedRows(
        column("ts"), column("p_stable"), column("p_candidate"), column("outcome"),
        parse_trading_rows(rows),
    )  # fmt: skip


async def fetch_paired_rows(
    conn: asyncpg.Connection, pair: VersionPair, since: datetime, until: datetime
) -> PairedRows:
    """The paired rows logged in ``[since, until)``; none before the columns exist (and
    without their trading columns before ``outcome_return`` exists)."""
    args = (pair.model_name, pair.stable_version, pair.candidate_version, since, until, MAX_ROWS)
    rows: list[asyncpg.Record] = []
    for trading in (TRADING_COLUMNS, ""):
        try:
            rows = list(await conn.fetch(PAIRED_ROWS_SQL.format(trading=trading), *args))
        except asyncpg.UndefinedColumnError:
            continue
        except asyncpg.UndefinedTableError:
            break
        break
    return parse_paired_rows(rows)


async def fetch_registry_number(
    conn: asyncpg.Connection, sql: str, model_name: str, version: str, *, positive: bool
) -> float | None:
    """One finite number the trainer recorded with a version (``sql`` selects it as text), or
    None when absent, unparsable, negative (or zero when ``positive``)."""
    try:
        text = await conn.fetchval(sql, model_name, version)
    except asyncpg.UndefinedTableError:
        return None
    return parse_registry_number(text, positive=positive)


def parse_registry_number(text: str | None, *, positive: bool) -> float | None:
    """A recorded number from its JSON text: None when absent, unparsable, not finite, negative
    (or zero when ``positive``)."""
    try:
        value = float(text) if text is not None else math.nan
    except ValueError:
        return None
    valid = math.isfinite(value) and (value > 0 if positive else value >= 0)
    return value if valid else None


async def fetch_envelope(conn: asyncpg.Connection, model_name: str, version: str) -> float | None:
    """The version's recorded retraining-noise envelope (RMS of p_up), or None."""
    return await fetch_registry_number(conn, ENVELOPE_SQL, model_name, version, positive=False)


async def fetch_retrain_noise(
    conn: asyncpg.Connection, model_name: str, version: str
) -> RetrainNoise | None:
    """The version's recorded paired-trading retraining noise (``metrics.backtest.retrainNoise``:
    margin, hourly sd, the market's return sd and the position sd, in return units; one
    query), or None when any is missing or invalid."""
    try:
        row = await conn.fetchrow(RETRAIN_NOISE_SQL, model_name, version)
    except asyncpg.UndefinedTableError:
        return None
    if row is None:
        return None
    found = [parse_registry_number(row[i], positive=False) for i in range(len(RETRAIN_NOISE_KEYS))]
    values = [v for v in found if v is not None]
    return RetrainNoise(*values) if len(values) == len(found) else None


async def fetch_judgement_input(
    api: ApiClient,
    md: ModelDeployment,
    pair: VersionPair,
    window: tuple[datetime, datetime],
    settings: OperatorSettings,
) -> tuple[PairedRows, float | None, RetrainNoise | None]:
    """The paired rows of ``window``, the stable version's envelope and its paired-trading
    retraining noise, in one connection; raises RegistryUnavailableError (the measurement then
    counts as an error)."""
    conn = await connect_database(api, md, settings)
    try:
        rows = await fetch_paired_rows(conn, pair, *window)
        envelope = await fetch_envelope(conn, pair.model_name, pair.stable_version)
        noise = await fetch_retrain_noise(conn, pair.model_name, pair.stable_version)
    except (asyncpg.PostgresError, OSError) as exc:
        raise RegistryUnavailableError(f"prediction log: {type(exc).__name__}: {exc}") from exc
    finally:
        await conn.close()
    return rows, envelope, noise


async def apply_pair(
    api: ApiClient, md: ModelDeployment, pair: VersionPair, canary: str, settings: OperatorSettings
) -> None:
    """Name the pair every predictor of the model scores in shadow (idempotent upsert)."""
    conn = await connect_database(api, md, settings)
    try:
        await shared.apply_shadow_pair(
            conn, pair.model_name, pair.stable_version, pair.candidate_version, canary
        )
    except (asyncpg.PostgresError, OSError) as exc:
        raise RegistryUnavailableError(f"shadow pair: {type(exc).__name__}: {exc}") from exc
    finally:
        await conn.close()


async def clear_pair(
    api: ApiClient, md: ModelDeployment, canary: str, settings: OperatorSettings
) -> None:
    """Remove the model's pair if ``canary`` wrote it (idempotent; a missing table is fine)."""
    conn = await connect_database(api, md, settings)
    try:
        await shared.clear_shadow_pair(conn, md.model_name, canary)
    except asyncpg.UndefinedTableError:
        return
    except (asyncpg.PostgresError, OSError) as exc:
        raise RegistryUnavailableError(f"shadow pair: {type(exc).__name__}: {exc}") from exc
    finally:
        await conn.close()

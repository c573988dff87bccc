"""Observe a ModelDeployment's paper trading for its plan: the serving version's breaker readings,
every served version's paper results, and the reset annotation; publish them as metrics.

Layer: shell. Reads only (the plan writes). The prediction log is read only when a breaker check
(``spec.circuitBreakers.intervalSeconds``) or a paper window (``core.modeldeployment.paper``) is
due, in one connection, with bounded queries (``adapters.papertrades``), so a resync stays cheap.
An unreachable log leaves the last results and the breaker's state as they are: it neither trips
nor resets a breaker.
"""

import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from kubernetes_asyncio.client import ApiClient

from levibot_operator import constants as c
from levibot_operator.adapters import kube, papertrades
from levibot_operator.adapters.registry import RegistryUnavailableError, connect_database
from levibot_operator.core.alerts.dispatch import find_live_canaries
from levibot_operator.core.modeldeployment.breaker_state import find_judged_since, is_check_due
from levibot_operator.core.modeldeployment.breakers import Reading, TradingInput, assess_breakers
from levibot_operator.core.modeldeployment.observation import Snapshot, TradingObservation
from levibot_operator.core.modeldeployment.paper import (
    VersionSignals,
    build_paper_json,
    find_covered_windows,
    find_due_windows,
    find_look_back,
    select_trades,
    simulate_version,
)
from levibot_operator.core.modeldeployment.spec import ModelDeployment
from levibot_operator.settings import OperatorSettings

log = logging.getLogger(__name__)
Body = Mapping[str, Any]


def read_reset_request(body: Body) -> str | None:
    """The ``levibot.io/reset-breaker`` annotation's value, if any."""
    value = (body["metadata"].get("annotations") or {}).get(c.ANNOTATION_RESET_BREAKER)
    return str(value) if value else None


async def fetch_candidates(api: ApiClient, md: ModelDeployment) -> tuple[str, ...]:
    """The candidate versions of the live Canaries of ``md`` (their own rows are theirs)."""
    bodies = await kube.fetch_list(api, c.API_VERSION, c.CANARY_KIND, md.namespace, {})
    found = (
        (b.get("status") or {}).get("candidateVersion") for b in find_live_canaries(bodies, md.name)
    )
    return tuple(str(v) for v in found if v)


async def fetch_version_signals(
    conn: asyncpg.Connection, md: ModelDeployment, version: str, track: str, since: datetime
) -> VersionSignals:
    """One version's resolved BUY/SELL rows since ``since``."""
    rows = await papertrades.fetch_signal_rows(conn, md.model_name, version, since)
    return VersionSignals(version, track, rows.ts, rows.symbols, rows.signals, rows.returns)


async def fetch_trading(
    api: ApiClient, settings: OperatorSettings, snap: Snapshot, body: Body
) -> Snapshot:
    """``snap`` with what its plan needs of paper trading (see the module docstring)."""
    md, status, now = snap.md, snap.status, snap.now
    seen = TradingObservation(version=status.stable_version, reset_request=read_reset_request(body))
    if not status.stable_version:
        return replace(snap, trading=seen)
    check = is_check_due(status.circuit_breaker, md.spec.circuit_breakers, now)
    windows = find_due_windows(status.paper_trading, now)
    if check:  # the rows the breakers read give these windows' results at no extra cost
        covered = find_covered_windows(window_of(md))
        windows = tuple(dict.fromkeys((*windows, *covered)))
    if not (check or windows):
        return replace(snap, trading=seen)
    candidates = await fetch_candidates(api, md) if windows else ()
    try:
        seen = await fetch_log(api, settings, snap, seen, (candidates, windows), check=check)
    except RegistryUnavailableError as exc:
        log.warning("%s/%s: paper trading not read: %s", md.namespace, md.name, exc)
    return replace(snap, trading=seen)


async def fetch_log(
    api: ApiClient,
    settings: OperatorSettings,
    snap: Snapshot,
    seen: TradingObservation,
    paper: tuple[tuple[str, ...], tuple[str, ...]],
    *,
    check: bool,
) -> TradingObservation:
    """Read the log in one connection: the ``paper`` (candidates, windows) results and/or the
    breakers' readings, from the longest look-back either needs."""
    md, now, status = snap.md, snap.now, snap.status
    candidates, windows = paper
    look_back = max(find_look_back(windows), window_of(md) if check else 0)
    start = now - timedelta(seconds=look_back)
    conn = await connect_database(api, md, settings)
    try:
        rows = await fetch_version_signals(conn, md, status.stable_version, c.TRACK_STABLE, start)
        if windows:
            versions = [rows] + [
                await fetch_version_signals(conn, md, v, c.TRACK_CANARY, start)
                for v in candidates
                if v != status.stable_version
            ]
            trading = (md.spec.horizon_seconds, md.spec.trading.costs())
            built = build_paper_json(status.paper_trading, versions, trading, now, windows)
            seen = replace(seen, paper=built)
        if check:
            seen = replace(seen, readings=await fetch_readings(conn, snap, rows))
    except (asyncpg.PostgresError, OSError) as exc:
        raise papertrades.translate_error(exc) from exc
    finally:
        await conn.close()
    return seen


def window_of(md: ModelDeployment) -> int:
    """The breakers' look-back in seconds."""
    return md.spec.circuit_breakers.window_seconds if md.spec.circuit_breakers else 0


async def fetch_readings(
    conn: asyncpg.Connection, snap: Snapshot, rows: VersionSignals
) -> tuple[Reading, ...]:
    """The breakers' readings on the serving version's trades since the window's start or the
    last trip or reset, whichever is later, and on the market's recent volatility."""
    md, now, status = snap.md, snap.now, snap.status
    spec = md.spec.circuit_breakers
    assert spec is not None
    judged = find_judged_since(status.circuit_breaker, status.stable_version)
    start = max(now - timedelta(seconds=spec.window_seconds), judged or now - timedelta(days=3650))
    keep = rows.ts >= start.timestamp()
    trades = simulate_version(
        replace(rows, ts=rows.ts[keep], symbols=rows.symbols[keep], signals=rows.signals[keep],
                returns=rows.returns[keep]),
        md.spec.horizon_seconds, md.spec.trading.costs(),
    )  # fmt: skip
    market = await papertrades.fetch_market_returns(
        conn, md.model_name, status.stable_version,
        now - timedelta(seconds=spec.volatility.window_seconds),
    )  # fmt: skip
    std = await papertrades.fetch_training_std(conn, md.model_name, status.stable_version)
    data = TradingInput(select_trades(trades, start.timestamp()), market, std)
    return assess_breakers(data, spec)

"""Prediction log (predictor I/O): a bounded queue drained by one writer that batch-inserts rows.

``submit`` never blocks and never raises: a full queue drops the entry and counts its rows.
The writer COPYs up to ``batch_rows`` rows at a time (or what arrived within ``flush_seconds``);
when the database is down it drops the batch, counts it, and backs off before trying again.
Prediction ids are made here (time-ordered, see ``IdSource``) so a response can name them.
Rows scored in shadow also carry the partner's version, p_up and signal (``SHADOW_COLUMNS``).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np
from numpy.typing import NDArray

from levibot_predictor.core.shadow import ShadowScores
from levibot_predictor.io.database import Database, DatabaseUnavailableError

log = logging.getLogger(__name__)

LOG_COLUMNS = (
    "id", "model_name", "version", "track", "symbol", "ts", "p_up", "signal", "fallback",
    "features", "horizon_seconds",
)  # fmt: skip
SHADOW_COLUMNS = ("shadow_version", "shadow_p_up", "shadow_signal")
NO_SHADOW = (None, None, None)
COLLECT_SLICE_SECONDS = 0.01  # records are built in slices this far apart, not all at once
Record = tuple[
    int, str, str, str, str, datetime, float | None, str, bool, str | None, int,
    str | None, float | None, str | None,
]  # fmt: skip


@dataclass(frozen=True)
class LogEntry:
    """The predictions of one request; ``features`` is (n, k) or None for fallbacks; ``symbol``
    is "" for feature-row requests (the column is NOT NULL)."""

    ids: Sequence[int]
    symbol: str
    ts: float
    p_up: Sequence[float | None]
    signals: Sequence[str]
    fallback: bool
    features: NDArray[np.float32] | None
    shadow: ShadowScores | None = None


@dataclass(frozen=True)
class LogIdentity:
    """Constant columns of every row this process writes."""

    model_name: str
    version: str
    track: str
    horizon_seconds: int
    feature_names: tuple[str, ...]


class IdSource:
    """Ids ``(unix_ms << 20) | counter``: unique per process, roughly time-ordered across
    replicas (a random counter start makes collisions between replicas unlikely)."""

    def __init__(self, start: int) -> None:
        self._counter = start & 0xFFFFF

    def take(self, count: int, now: float) -> list[int]:
        """``count`` fresh ids at time ``now`` (seconds)."""
        base = int(now * 1000) << 20
        first = self._counter
        self._counter = (first + count) & 0xFFFFF
        return [base | ((first + i) & 0xFFFFF) for i in range(count)]


@functools.cache
def build_features_template(names: tuple[str, ...]) -> str:
    """A %-template rendering one row as a JSON object (repr of a finite float is valid JSON)."""
    return "{" + ", ".join(f"{json.dumps(name)}: %r" for name in names) + "}"


def build_records(entry: LogEntry, who: LogIdentity) -> list[Record]:
    """Rows for ``prediction_log`` from one entry."""
    ts = datetime.fromtimestamp(entry.ts, tz=UTC)
    rows: list[Record] = []
    template = build_features_template(who.feature_names)
    matrix = None if entry.features is None else entry.features.astype(np.float64).tolist()
    shadow = entry.shadow
    for i, pid in enumerate(entry.ids):
        features = None if matrix is None else template % tuple(matrix[i])
        p = entry.p_up[i]
        rows.append((
            pid, who.model_name, who.version, who.track, entry.symbol, ts,
            None if p is None or not math.isfinite(p) else p, entry.signals[i], entry.fallback,
            features, who.horizon_seconds,
            *((shadow.version, shadow.p_up[i], shadow.signals[i]) if shadow else NO_SHADOW),
        ))  # fmt: skip
    return rows


def select_columns(records: list[Record]) -> tuple[tuple[str, ...], list[Record]]:
    """The columns to COPY: the shadow ones only when a row has them, so a database whose
    schema predates shadow scoring still takes every unshadowed row."""
    if any(record[11] is not None for record in records):
        return LOG_COLUMNS + SHADOW_COLUMNS, records
    width = len(LOG_COLUMNS)
    return LOG_COLUMNS, [record[:width] for record in records]  # type: ignore[misc]


class PredictionLog:
    """Bounded queue + writer task; ``dropped`` is called with a row count on every drop."""

    def __init__(
        self,
        database: Database | None,
        *,
        who: LogIdentity,
        dropped: Callable[[int], None],
        queue_size: int,
        batch_rows: int,
        flush_seconds: float,
    ) -> None:
        self._db = database
        self._who = who
        self._dropped = dropped
        self._queue: asyncio.Queue[LogEntry] = asyncio.Queue(maxsize=queue_size)
        self._batch_rows = batch_rows
        self._flush = flush_seconds
        self._pending: list[Record] = []
        self._inflight: asyncio.Future[None] | None = None
        self.written = 0

    def retrack(self, track: str) -> None:
        """Rows from now on carry ``track`` (a promotion re-labels, never restarts)."""
        self._who = replace(self._who, track=track)

    def submit(self, entry: LogEntry) -> None:
        """Enqueue without waiting; a full queue (or no database) drops and counts."""
        if self._db is None:
            return
        try:
            self._queue.put_nowait(entry)
        except asyncio.QueueFull:
            self._dropped(len(entry.ids))

    async def run(self) -> None:
        """Writer loop: collect a batch, insert it, back off while the database is down.
        An insert in flight is shielded: cancelling the loop (shutdown) never cuts a COPY
        in half, which would hand a busy connection back to the pool."""
        backoff = self._flush
        while True:
            await self._collect()
            records, self._pending = self._pending, []
            self._inflight = asyncio.ensure_future(self._insert(records))
            try:
                await asyncio.shield(self._inflight)
                self.written += len(records)
                backoff = self._flush
            except DatabaseUnavailableError as exc:
                log.warning("prediction log: dropped %d rows: %s", len(records), exc)
                self._dropped(len(records))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def _collect(self) -> None:
        """Fill ``_pending`` up to a batch, or with what arrives within the flush period;
        entries are turned into records a few at a time, between requests."""
        self._pending.extend(build_records(await self._queue.get(), self._who))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._flush
        while len(self._pending) < self._batch_rows:
            while not self._queue.empty() and len(self._pending) < self._batch_rows:
                self._pending.extend(build_records(self._queue.get_nowait(), self._who))
            remaining = deadline - loop.time()
            if remaining <= 0 or len(self._pending) >= self._batch_rows:
                return
            await asyncio.sleep(min(remaining, COLLECT_SLICE_SECONDS))

    async def _insert(self, records: list[Record]) -> None:
        assert self._db is not None
        columns, rows = select_columns(records)
        async with self._db.connection() as conn:
            await conn.copy_records_to_table(
                "prediction_log", records=rows, columns=columns, timeout=self._db.timeout
            )

    async def drain(self, within: float) -> None:
        """Best effort at shutdown (after ``run`` was cancelled): let the insert in flight
        finish, then write what is pending or queued, all within ``within`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        if self._inflight is not None and not self._inflight.done():
            await asyncio.wait({self._inflight}, timeout=within)
        records, self._pending = self._pending, []
        while not self._queue.empty():
            records.extend(build_records(self._queue.get_nowait(), self._who))
        remaining = deadline - loop.time()
        if records and self._db is not None:
            try:
                await asyncio.wait_for(self._insert(records), max(remaining, 0.01))
            except (DatabaseUnavailableError, TimeoutError):
                self._dropped(len(records))

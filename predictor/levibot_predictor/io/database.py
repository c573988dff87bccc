"""PostgreSQL access for the predictor (predictor I/O): one lazily connecting asyncpg pool.

The pool is created with ``min_size=0`` so creating it never touches the server: the predictor
starts and serves ``/v1/predict`` while the database is down, and each use reconnects on its own.
Every failure is turned into ``DatabaseUnavailableError`` so callers decide (fallback, drop, retry).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

DB_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)


class DatabaseUnavailableError(Exception):
    """The database could not serve a call (down, timed out, or refused it)."""


class Database:
    """A pool to one DSN, created on first use; ``connection()`` yields or raises."""

    def __init__(self, dsn: str, timeout: float, max_size: int = 4) -> None:
        self._dsn = dsn
        self.timeout = timeout
        self._max_size = max_size
        self._pool: asyncpg.Pool | None = None

    async def _get_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            self._pool = await asyncpg.create_pool(
                self._dsn, min_size=0, max_size=self._max_size, timeout=self.timeout,
                command_timeout=self.timeout,
            )  # fmt: skip
        return self._pool

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection; any database failure becomes ``DatabaseUnavailableError``."""
        try:
            pool = await self._get_pool()
            async with pool.acquire(timeout=self.timeout) as conn:
                yield conn
        except DB_ERRORS as exc:
            raise DatabaseUnavailableError(f"{type(exc).__name__}: {exc}") from exc

    async def close(self) -> None:
        """Close the pool (terminating connections that do not close in time)."""
        if self._pool is not None:
            try:
                await asyncio.wait_for(self._pool.close(), self.timeout)
            except DB_ERRORS:
                self._pool.terminate()
            self._pool = None

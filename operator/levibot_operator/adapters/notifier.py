"""The outgoing notification webhook: a bounded queue drained by one background task.

Layer: adapters (HTTP out). ``notify`` only enqueues and never waits, so a status write (a
rollback above all) never waits for a notification: when the queue is full the notice is
dropped and logged. The task posts each notice as JSON, with a timeout per attempt and retries
with a doubling backoff on a connection error, a timeout, 429 or 5xx; another 4xx is final.
The bearer token is read from its (mounted Secret) file at each delivery, so a rotated token
is used without a restart.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

log = logging.getLogger(__name__)
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class NotifierConfig:
    url: str
    token_file: Path | None = None
    timeout_seconds: float = 5.0
    retries: int = 3
    backoff_seconds: float = 1.0
    queue_size: int = 100


class Notifier:
    """Posts notices to one URL from a background task (``start``), never from the caller."""

    def __init__(
        self, session: aiohttp.ClientSession, config: NotifierConfig, sleep: Sleep = asyncio.sleep
    ) -> None:
        self.session, self.config, self.sleep = session, config, sleep
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(config.queue_size)
        self.task: asyncio.Task[None] | None = None

    def notify(self, notice: dict[str, Any]) -> bool:
        """Enqueue without waiting; False (and a log line) when the queue is full."""
        try:
            self.queue.put_nowait(notice)
        except asyncio.QueueFull:
            log.warning("notification queue full; dropped %s", notice.get("kind"))
            return False
        return True

    def start(self) -> None:
        if self.task is None:
            self.task = asyncio.create_task(self.run(), name="levibot-notifier")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
            self.task = None

    async def run(self) -> None:
        while True:
            notice = await self.queue.get()
            try:
                await self.deliver(notice)
            finally:
                self.queue.task_done()

    async def deliver(self, notice: dict[str, Any]) -> bool:
        """Post one notice, retried; True once the receiver answered 2xx."""
        for attempt in range(self.config.retries + 1):
            final, ok = await self.post_once(notice)
            if ok or final:
                return ok
            if attempt < self.config.retries:
                await self.sleep(self.config.backoff_seconds * 2**attempt)
        log.warning("notification %s to %s not delivered", notice.get("kind"), self.config.url)
        return False

    async def post_once(self, notice: dict[str, Any]) -> tuple[bool, bool]:
        """One attempt: (final, delivered); a final failure is not retried."""
        timeout = aiohttp.ClientTimeout(total=self.config.timeout_seconds)
        try:
            async with self.session.post(
                self.config.url, json=notice, headers=self.build_headers(), timeout=timeout
            ) as resp:
                if resp.status < 300:
                    return True, True
                retried = resp.status == 429 or resp.status >= 500
                log.warning("notification refused: HTTP %d", resp.status)
                return not retried, False
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.info("notification attempt failed: %s: %s", type(exc).__name__, exc)
            return False, False

    def build_headers(self) -> dict[str, str]:
        token_file = self.config.token_file
        if token_file is None or not token_file.is_file():
            return {}
        token = token_file.read_text().strip()
        return {"Authorization": f"Bearer {token}"} if token else {}

"""The operator's Alertmanager webhook: an aiohttp app built by a factory from its config.

Layer: servers (HTTP edge). ``POST <path>`` (default ``/alerts``) takes Alertmanager's webhook
payload (version 4), authenticated with a bearer token read from a file (a mounted Secret;
re-read when it changes; compared in constant time). Each firing levibot alert is handed to
the injected ``on_alert`` callback, which rolls the matching canary back. Answers: 401 without
the right token (whatever bytes the header holds), 413 over the body cap, 400 for malformed or
unknown payloads (the reason in ``error``; nothing called), 500 when a callback failed
(Alertmanager retries), 200 otherwise. A firing alert whose target labels are not Kubernetes
names is skipped and listed under ``invalid`` in a 200: a retry could never succeed.

Alerts that ask for the same action (same namespace, ModelDeployment, version, alertname) make
one callback; ModelDeployments are handled concurrently, at most ``concurrency`` at a time, and
the actions on one ModelDeployment in payload order. The callback says whether it settled the
alert; a settled delivery seen again (same fingerprint and ``startsAt``) is not passed on, an
unsettled one (it waits for a running canary to end) is, on each of Alertmanager's repeats.
The callback must be idempotent anyway, since the dedupe memory is per process and bounded.
"""

import asyncio
import hmac
import json
import logging
import os
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from levibot_operator.core.alerts.grouping import AlertAction, group_alert_actions
from levibot_operator.core.alerts.payload import (
    AlertBatch,
    AlertTarget,
    PayloadError,
    parse_alert_payload,
)

log = logging.getLogger(__name__)

OnAlert = Callable[[AlertTarget], Awaitable[bool]]  # True: settled, never needed again
ALERTS_PATH = "/alerts"  # the chart's webhook.path default


@dataclass(frozen=True)
class WebhookConfig:
    """The webhook's settings (filled from OperatorSettings in ``__main__``)."""

    token_file: Path
    path: str = ALERTS_PATH
    max_body_bytes: int = 1 << 20
    dedupe_size: int = 4096
    concurrency: int = 16  # ModelDeployments handled at once (each reads the API server)


class TokenFile:
    """The bearer token, re-read when the file's mtime changes (Secret rotation)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._stamp: float | None = None
        self._token = b""
        if not self.current():
            raise ValueError(f"webhook token file {path} is missing or empty")

    def current(self) -> bytes:
        """The token, or b"" when the file vanished (then every request is refused)."""
        try:
            stamp = os.stat(self._path).st_mtime
            if stamp != self._stamp:
                self._token, self._stamp = self._path.read_bytes().strip(), stamp
        except OSError:
            self._token, self._stamp = b"", None
        return self._token


def is_authorized(header: str | None, token: bytes) -> bool:
    """Constant-time comparison of ``Bearer <token>``; an empty token authorizes nothing.

    aiohttp decodes header bytes as UTF-8 with surrogateescape: encoding back the same way
    compares the bytes that were sent, whatever they are."""
    scheme, _, given = (header or "").partition(" ")
    if not token or scheme.lower() != "bearer":
        return False
    try:
        sent = given.strip().encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(sent, token)


class Deduper:
    """Remembers the last ``size`` alert keys handled successfully."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._seen: OrderedDict[tuple[str, ...], None] = OrderedDict()

    def seen(self, alert: AlertTarget) -> bool:
        return self._key(alert) in self._seen

    def remember(self, alert: AlertTarget) -> None:
        self._seen[self._key(alert)] = None
        while len(self._seen) > self._size:
            self._seen.popitem(last=False)

    @staticmethod
    def _key(alert: AlertTarget) -> tuple[str, ...]:
        return (alert.namespace, alert.modeldeployment, alert.version, alert.alertname, *alert.key)


def _reject(status: int, reason: str, request: web.Request) -> web.Response:
    log.warning("webhook %s from %s: %s", status, request.remote, reason)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return web.json_response({"error": reason}, status=status, headers=headers)


def _decode_json(raw: bytes) -> object:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise PayloadError("(body)", f"not JSON: {exc}") from exc
    except RecursionError as exc:
        raise PayloadError("(body)", "JSON nested too deeply") from exc


async def _dispatch(
    groups: list[list[AlertAction]], on_alert: OnAlert, deduper: Deduper, limit: int
) -> int:
    """Run every action (groups concurrently, bounded); the number of actions that failed."""
    gate = asyncio.Semaphore(limit)

    async def run(group: list[AlertAction]) -> int:
        failed = 0
        async with gate:
            for action in group:
                failed += not await _act(action, on_alert, deduper)
        return failed

    return sum(await asyncio.gather(*(run(g) for g in groups)))


async def _act(action: AlertAction, on_alert: OnAlert, deduper: Deduper) -> bool:
    """One callback for the action's alerts; False when it raised (logged)."""
    alert = action.first
    log.info(
        "alert %s firing for %s/%s %s (%d deliveries)",
        alert.alertname,
        alert.namespace,
        alert.modeldeployment,
        alert.version,
        len(action.alerts),
    )
    try:
        settled = await on_alert(alert)
    except Exception:  # reported as 500 so Alertmanager retries; the other actions go on
        log.exception(
            "alert %s for %s/%s failed", alert.alertname, alert.namespace, alert.modeldeployment
        )
        return False
    if settled:
        for each in action.alerts:
            deduper.remember(each)
    return True


def _answer(batch: AlertBatch, fresh: int, failed: int) -> web.Response:
    body: dict[str, object] = {
        "accepted": fresh,
        "duplicates": len(batch.firing) - fresh,
        "ignored": batch.ignored,
    }
    if batch.invalid:
        body["invalid"] = [{"field": s.field, "error": s.problem} for s in batch.invalid]
    if failed:
        body["error"] = f"{failed} alert action(s) failed; Alertmanager will retry"
    return web.json_response(body, status=500 if failed else 200)


def build_webhook_app(config: WebhookConfig, on_alert: OnAlert) -> web.Application:
    """The webhook app; raises ValueError when the token file is missing or empty."""
    token, deduper = TokenFile(config.token_file), Deduper(config.dedupe_size)

    async def receive(request: web.Request) -> web.Response:
        if not is_authorized(request.headers.get("Authorization"), token.current()):
            return _reject(401, "missing or wrong bearer token", request)
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _reject(413, f"body over {config.max_body_bytes} bytes", request)
        try:
            batch = parse_alert_payload(_decode_json(raw))
        except PayloadError as exc:
            return _reject(400, str(exc), request)
        for skipped in batch.invalid:
            log.warning("webhook skipped an alert: %s: %s", skipped.field, skipped.problem)
        fresh = [a for a in batch.firing if not deduper.seen(a)]
        groups = group_alert_actions(fresh)
        failed = await _dispatch(groups, on_alert, deduper, config.concurrency)
        return _answer(batch, len(fresh), failed)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application(client_max_size=config.max_body_bytes)
    app.router.add_post(config.path, receive)
    app.router.add_get("/healthz", healthz)
    return app


def build_unconfigured_app(config: WebhookConfig) -> web.Application:
    """No token configured: ``/healthz`` answers, every alert is refused with 503."""

    async def refuse(request: web.Request) -> web.Response:
        return _reject(503, "webhook token not configured", request)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"ok": True, "webhook": "unconfigured"})

    app = web.Application(client_max_size=config.max_body_bytes)
    app.router.add_post(config.path, refuse)
    app.router.add_get("/healthz", healthz)
    return app

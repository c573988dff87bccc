"""The operator's Alertmanager webhook: an aiohttp app built by a factory from its config.

Layer: servers (HTTP edge). ``POST <path>`` (default ``/alerts``) takes Alertmanager's webhook
payload (version 4), authenticated with a bearer token read from a file (a mounted Secret;
re-read when it changes; compared in constant time). Each firing levibot alert is handed to
the injected ``on_alert`` callback, which rolls the matching canary back. Answers: 401 without
the right token, 413 over the body cap, 400 for malformed or unknown payloads (logged, nothing
called), 500 when the callback failed (Alertmanager retries), 200 otherwise. The callback says
whether it settled the alert; a settled delivery seen again (same fingerprint and ``startsAt``)
is not passed on, an unsettled one (it waits for a running canary to end) is, on each of
Alertmanager's repeats. The callback must be idempotent anyway, since the dedupe memory is per
process and bounded.
"""

import hmac
import json
import logging
import os
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from levibot_operator.core.alerts.payload import AlertTarget, PayloadError, parse_alert_payload

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
    """Constant-time comparison of ``Bearer <token>``; an empty token authorizes nothing."""
    scheme, _, given = (header or "").partition(" ")
    if not token or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token)


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


async def _read_json(request: web.Request) -> object:
    try:
        return json.loads(await request.read())
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError("(body)", f"not JSON: {exc}") from exc


def build_webhook_app(config: WebhookConfig, on_alert: OnAlert) -> web.Application:
    """The webhook app; raises ValueError when the token file is missing or empty."""
    token, deduper = TokenFile(config.token_file), Deduper(config.dedupe_size)

    async def receive(request: web.Request) -> web.Response:
        if not is_authorized(request.headers.get("Authorization"), token.current()):
            return _reject(401, "missing or wrong bearer token", request)
        try:
            batch = parse_alert_payload(await _read_json(request))
        except PayloadError as exc:
            return _reject(400, str(exc), request)
        fresh = [a for a in batch.firing if not deduper.seen(a)]
        for alert in fresh:
            log.info(
                "alert %s firing for %s/%s %s",
                alert.alertname,
                alert.namespace,
                alert.modeldeployment,
                alert.version,
            )
            if await on_alert(alert):
                deduper.remember(alert)
        duplicates = len(batch.firing) - len(fresh)
        body = {"accepted": len(fresh), "duplicates": duplicates, "ignored": batch.ignored}
        return web.json_response(body)

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

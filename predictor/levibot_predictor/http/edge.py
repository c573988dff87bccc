"""ASGI edge middleware (predictor HTTP layer): body cap, request counting, latency, the door.

A pure ASGI middleware (no BaseHTTPMiddleware: it costs a task per request). A Content-Length
above the cap is refused at once; otherwise the body is read here, counted as it streams, and
refused as soon as it passes the cap — the app only ever sees a body within the cap.
The prediction routes are answered by their one door (``predict.PredictRoutes``); everything
else (and what the door passes on) goes to the FastAPI app with the body replayed. Refusals are
rendered by ``render.answer_error``, as every error of the process is. A request whose client
goes away before any answer is counted as client error ``disconnected`` and in no request
series: no status was sent, and it is nobody's fault but the client's (never a 500).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from levibot_predictor.errors import PredictorError, too_large
from levibot_predictor.http.render import JSON_MEDIA_TYPE, Answer, answer_error
from levibot_predictor.io.metrics import PredictorMetrics

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Door = Callable[[str, str, bytes], "Answer | None"]
JSON_HEADERS = (b"content-type", JSON_MEDIA_TYPE.encode())
DISCONNECTED = "disconnected"  # client error reason of a request abandoned before its answer

log = logging.getLogger(__name__)


def parse_endpoint(path: str) -> str:
    """A bounded endpoint label for a request path."""
    if path == "/v1/predict":
        return "predict"
    if path.startswith("/v1/predict/"):
        return "predict_symbol"
    if path == "/v1/feedback":
        return "feedback"
    return "other"


def parse_content_length(headers: list[tuple[bytes, bytes]]) -> int | str | None:
    """The declared length, None when absent, or an error text when malformed."""
    for name, value in headers:
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else f"invalid Content-Length {text!r}"
    return None


async def send_json(send: Send, status: int, body: bytes) -> None:
    """A complete JSON response."""
    headers = [JSON_HEADERS, (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class EdgeMiddleware:
    """Caps request bodies at ``max_body`` bytes, counts and times every HTTP request, and
    hands the prediction routes to ``door``."""

    def __init__(self, app: ASGIApp, metrics: PredictorMetrics, max_body: int, door: Door) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body = max_body
        self.door = door

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        endpoint = parse_endpoint(scope["path"])
        status: list[int | None] = [None]  # None until a response starts

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self._serve(scope, receive, counting_send, endpoint)
        except Exception:  # a counted 500 when nothing was sent yet, else the server's own
            if status[0] is not None:
                self.metrics.count_error("internal_error")
                raise
            log.exception("request failed")
            error = PredictorError(500, "internal_error", "unexpected error, see the logs")
            await send_json(counting_send, *answer_error(self.metrics, error))
        if status[0] is None:  # the client went away before an answer: not a 500, not a fault
            self.metrics.count_client_error(DISCONNECTED)
            return
        elapsed = time.perf_counter() - started if endpoint != "other" else None
        self.metrics.observe_request(endpoint, status[0], elapsed)

    async def _serve(self, scope: Scope, receive: Receive, send: Send, endpoint: str) -> None:
        body = await self._read_body(scope, receive, send)
        if body is None:
            return  # refused (already answered) or the client went away
        answer = self.door(scope["method"], scope["path"], body) if endpoint != "other" else None
        if answer is not None:
            await send_json(send, *answer)
        else:
            await self.app(scope, _replay(body, receive), send)

    async def _read_body(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        declared = parse_content_length(scope["headers"])
        if isinstance(declared, str):
            await send_json(send, *answer_error(self.metrics, PredictorError(
                400, "invalid_request", declared)))  # fmt: skip
            return None
        if declared is not None and declared > self.max_body:
            await self._refuse(send, f"{declared} bytes")
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None  # client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                await self._refuse(send, f"more than {self.max_body} bytes")
                return None
            if not message.get("more_body", False):
                return b"".join((*chunks, chunk)) if chunks else chunk
            chunks.append(chunk)

    async def _refuse(self, send: Send, what: str) -> None:
        reason = f"request body of {what} exceeds the cap of {self.max_body} bytes"
        await send_json(send, *answer_error(self.metrics, too_large(reason)))


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay

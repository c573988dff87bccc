"""Fast path of the two prediction routes (app layer): request bytes in, response bytes out.

``POST /v1/predict`` and ``POST /v1/predict/{symbol}`` are the hot path; going through the
framework's routing, dependency solving and response classes costs more than the model. The
edge middleware hands their body here; one pydantic-core call validates it, the service
predicts, and the JSON answer is rendered from pre-encoded pieces. Anything this path does not
answer exactly as FastAPI would (other methods, an empty or nested or over-long symbol) returns
None and goes on to FastAPI, which also keeps serving the OpenAPI document and the other routes.
Errors are the same ``{"error", "reason"}`` bodies, statuses and error counters as the app's.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from pydantic import TypeAdapter

from levibot_predictor.errors import PredictorError
from levibot_predictor.metrics import PredictorMetrics
from levibot_predictor.parsing import parse_rows
from levibot_predictor.service import PredictionService, RowsResult, SymbolResult

log = logging.getLogger(__name__)

PREDICT_PATH = "/v1/predict"
SYMBOL_PREFIX = "/v1/predict/"
MAX_SYMBOL_LENGTH = 64  # the path parameter's documented max_length
Answer = tuple[int, bytes]


def render_json_value(value: float | None) -> str:
    """A finite float or None as JSON (``repr`` of a finite float is valid JSON)."""
    return "null" if value is None else repr(value)


def build_identity(base: tuple[str, str, str]) -> str:
    """The pre-encoded ``"model": .., "version": .., "track": ..`` members."""
    return ", ".join(f'"{key}": {json.dumps(value)}' for key, value in
                     zip(("model", "version", "track"), base, strict=True))  # fmt: skip


def render_rows(result: RowsResult, identity: str) -> bytes:
    """The JSON body of a /v1/predict answer."""
    items = ", ".join(
        f'{{"prediction_id": {i}, "p_up": {render_json_value(p)}, "signal": "{s}"}}'
        for i, p, s in zip(result.ids, result.p_up, result.signals, strict=True)
    )
    reason = "null" if result.reason is None else f'"{result.reason}"'
    fallback = "true" if result.reason is not None else "false"
    text = f'{{{identity}, "predictions": [{items}], "fallback": {fallback}, "reason": {reason}}}'
    return text.encode()


def render_symbol(result: SymbolResult, identity: str) -> bytes:
    """The JSON body of a /v1/predict/{symbol} answer."""
    reason = "null" if result.reason is None else f'"{result.reason}"'
    fallback = "true" if result.reason is not None else "false"
    text = (f'{{{identity}, "prediction_id": {result.prediction_id}, '
            f'"symbol": {json.dumps(result.symbol)}, "p_up": {render_json_value(result.p_up)}, '
            f'"signal": "{result.signal}", "fallback": {fallback}, "reason": {reason}, '
            f'"staleness_seconds": {render_json_value(result.staleness)}}}')  # fmt: skip
    return text.encode()


def render_error(error: PredictorError) -> bytes:
    """The ``{"error", "reason"}`` body every error has."""
    return json.dumps({"error": error.code, "reason": error.reason}).encode()


class PredictRoutes:
    """Answers the prediction routes from body bytes; ``answer`` is None for other requests."""

    def __init__(
        self, service: PredictionService, adapter: TypeAdapter[Any], max_rows: int,
        clock: Callable[[], float], base: tuple[str, str, str],
    ) -> None:  # fmt: skip
        self._service = service
        self._adapter = adapter
        self._features = service.runtime.info.features
        self._max_rows = max_rows
        self._clock = clock
        self._identity = build_identity(base)
        self._metrics: PredictorMetrics = service.metrics

    def answer(self, method: str, path: str, body: bytes) -> Answer | None:
        """Status and JSON body, or None when FastAPI should handle the request."""
        if method != "POST":
            return None
        if path == PREDICT_PATH:
            return self._guard(self._rows, body)
        if path.startswith(SYMBOL_PREFIX):
            symbol = path[len(SYMBOL_PREFIX) :]
            if not symbol or "/" in symbol or len(symbol) > MAX_SYMBOL_LENGTH:
                return None  # FastAPI's own 404, redirect or validation error
            return self._guard(self._symbol, symbol)
        return None

    def _rows(self, body: str | bytes) -> bytes:
        assert isinstance(body, bytes)
        matrix = parse_rows(self._adapter, body, self._features, self._max_rows)
        return render_rows(self._service.predict_rows(matrix, self._clock()), self._identity)

    def _symbol(self, symbol: str | bytes) -> bytes:
        assert isinstance(symbol, str)
        return render_symbol(self._service.predict_symbol(symbol, self._clock()), self._identity)

    def _guard(self, handle: Callable[[str | bytes], bytes], arg: str | bytes) -> Answer:
        try:
            return 200, handle(arg)
        except PredictorError as exc:
            self._metrics.count_error(exc.code)
            return exc.status, render_error(exc)
        except Exception:  # never a dropped connection: a logged, counted 500
            log.exception("prediction failed")
            self._metrics.count_error("internal_error")
            error = PredictorError(500, "internal_error", "unexpected error, see the logs")
            return 500, render_error(error)

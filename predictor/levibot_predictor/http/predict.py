"""The prediction routes (predictor HTTP layer): the one door each prediction request goes through.

``POST /v1/predict`` and ``POST /v1/predict/{symbol}`` are the hot path; going through the
framework's routing, dependency solving and response classes costs more than the model. So the
edge middleware hands their body to ``PredictRoutes.answer``, the only implementation of both
routes: one pydantic-core call validates the body, the service predicts, and the JSON answer is
rendered from pre-encoded pieces. FastAPI only *describes* the two routes (``describe_routes``:
OpenAPI document, and its own 404/405/422 for what the door passes on: other methods, an empty,
nested or over-long symbol); their endpoints are never reached while the edge is installed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, NoReturn

from fastapi import FastAPI
from fastapi import Path as PathParam
from pydantic import TypeAdapter

from levibot_predictor.errors import PredictorError
from levibot_predictor.http import schemas
from levibot_predictor.http.parsing import parse_rows
from levibot_predictor.http.render import (
    Answer,
    answer_error,
    build_identity,
    render_rows,
    render_symbol,
)
from levibot_predictor.io.metrics import PredictorMetrics
from levibot_predictor.service import PredictionService

log = logging.getLogger(__name__)

PREDICT_PATH = "/v1/predict"
SYMBOL_PREFIX = "/v1/predict/"
MAX_SYMBOL_LENGTH = 64  # the path parameter's documented max_length
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": schemas.ErrorResponse} for code in (404, 413, 422, 503)
}


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

    def retrack(self, base: tuple[str, str, str]) -> None:
        """Answers name ``base`` from now on (a promotion's new track)."""
        self._identity = build_identity(base)

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
            return answer_error(self._metrics, exc)
        except Exception:  # never a dropped connection: a logged, counted 500
            log.exception("prediction failed")
            error = PredictorError(500, "internal_error", "unexpected error, see the logs")
            return answer_error(self._metrics, error)


def describe_routes(app: FastAPI, features: tuple[str, ...], max_rows: int) -> None:
    """Declare both routes to FastAPI for the OpenAPI document and for routing what the door
    passes on (405 for other methods, 422 for an over-long symbol); ``PredictRoutes`` serves."""
    body_doc = {"required": True, "content": {"application/json": {
        "schema": schemas.build_rows_schema(features, max_rows)}}}  # fmt: skip

    @app.post(PREDICT_PATH, openapi_extra={"requestBody": body_doc}, response_model=None,
              responses={200: {"model": schemas.PredictResponse}, **ERRORS})  # fmt: skip
    async def predict() -> NoReturn:
        """Predict a batch of feature rows (names, count and finiteness are validated)."""
        raise_served_at_edge()

    @app.post(SYMBOL_PREFIX + "{symbol}", response_model=None,
              responses={200: {"model": schemas.SymbolResponse}, **ERRORS})  # fmt: skip
    async def predict_symbol(symbol: str = PathParam(max_length=MAX_SYMBOL_LENGTH)) -> NoReturn:
        """Predict one symbol from cached market features, or fall back (HOLD / z-score)."""
        raise_served_at_edge()


def raise_served_at_edge() -> NoReturn:
    """The described routes' body: reaching it means the edge middleware is not installed."""
    raise PredictorError(500, "internal_error", "prediction routes are served by the edge")

"""Response bodies of the predictor (predictor HTTP layer, pure): results and errors as JSON bytes.

Prediction answers are rendered from pre-encoded pieces (cheaper than a serializer on the hot
path). Every error response of the process, whichever part refuses the request (the edge, the
prediction door or a FastAPI handler), is counted and rendered by ``answer_error``: one body
shape, ``{"error": code, "reason": text}``; a 5xx counts as a fault (``levibot_model_errors_total``
by code), a 4xx as a client error (``levibot_client_errors_total`` by code), never both.
"""

from __future__ import annotations

import json

from levibot_predictor.errors import PredictorError
from levibot_predictor.io.metrics import PredictorMetrics
from levibot_predictor.service import RowsResult, SymbolResult

Answer = tuple[int, bytes]
JSON_MEDIA_TYPE = "application/json"
SERVER_ERROR = 500  # from this status on an error is the server's fault, below it the client's


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


def answer_error(metrics: PredictorMetrics, error: PredictorError) -> Answer:
    """Count ``error`` by its code and render it: the one way an error becomes a response."""
    if error.status >= SERVER_ERROR:
        metrics.count_error(error.code)
    else:
        metrics.count_client_error(error.code)
    return error.status, render_error(error)

"""Request parsing (predictor HTTP layer, pure): JSON bytes → float32 matrix, or a 4xx error.

pydantic-core parses and validates the bytes in one pass (no ``json.loads``); the first few
validation errors become the reason, each naming its field. An oversize batch is a 413.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import TypeAdapter, ValidationError

from levibot_predictor.errors import PredictorError, bad_request, too_large


def build_reason(error: ValidationError, limit: int = 3) -> str:
    """``loc: message`` for the first ``limit`` errors."""
    parts = []
    for item in error.errors(include_url=False)[:limit]:
        where = ".".join(str(part) for part in item["loc"]) or "body"
        parts.append(f"{where}: {item['msg']}")
    more = error.error_count() - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def parse_rows(
    adapter: TypeAdapter[Any], body: bytes, features: tuple[str, ...], max_rows: int
) -> NDArray[np.float32]:
    """The (n, k) float32 matrix of a ``{"rows": [...]}`` body, columns in ``features`` order."""
    try:
        request = adapter.validate_json(body)
    except ValidationError as exc:
        raise classify_error(exc, max_rows) from None
    values = [[row[name] for name in features] for row in request["rows"]]
    with np.errstate(over="ignore"):  # overflow to inf is detected just below
        matrix = np.array(values, dtype=np.float32)
    if not bool(np.isfinite(matrix).all()):
        raise bad_request("rows: a value is outside the float32 range")
    return matrix


def classify_error(error: ValidationError, max_rows: int) -> PredictorError:
    """413 for too many rows, 422 for everything else."""
    for item in error.errors(include_url=False):
        if item["type"] == "too_long" and tuple(item["loc"]) == ("rows",):
            return too_large(f"rows: at most {max_rows} rows per request")
    return bad_request(build_reason(error))

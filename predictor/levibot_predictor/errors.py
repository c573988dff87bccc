"""The predictor's one error class (shared by every layer): a code, a reason and an HTTP status.

Raised anywhere below the HTTP app and translated once, at the edge, into a JSON error body.
"""

from __future__ import annotations


class PredictorError(Exception):
    """An error a client can act on; ``status`` is the HTTP status it becomes."""

    def __init__(self, status: int, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.status = status
        self.code = code
        self.reason = reason


def bad_request(reason: str) -> PredictorError:
    """A malformed or invalid request (422)."""
    return PredictorError(422, "invalid_request", reason)


def not_found(reason: str) -> PredictorError:
    """An unknown resource, e.g. a symbol this predictor does not serve (404)."""
    return PredictorError(404, "not_found", reason)


def too_large(reason: str) -> PredictorError:
    """A body or batch above the configured cap (413)."""
    return PredictorError(413, "too_large", reason)


def unavailable(reason: str) -> PredictorError:
    """A dependency (model, database) that is not ready (503)."""
    return PredictorError(503, "unavailable", reason)

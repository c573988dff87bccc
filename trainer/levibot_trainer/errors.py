"""The trainer's error vocabulary (trainer, pure): one class per exit code of docs/contracts.md.

Errors are raised where a problem is found, with a message that names the field or the data at
fault, and translated once into an exit code and a result document in ``cli``.
"""

from __future__ import annotations

from typing import ClassVar

EXIT_OK = 0
EXIT_BAD_CONFIG = 2
EXIT_INSUFFICIENT_DATA = 3
EXIT_DATABASE_UNREACHABLE = 4
EXIT_PARITY_FAILURE = 5


class TrainerError(Exception):
    """A failure the Job reports with a distinct exit code and a machine-readable reason."""

    exit_code: ClassVar[int] = 1
    reason: ClassVar[str] = "error"


class BadConfigError(TrainerError):
    """Settings or flags that cannot work (names the field)."""

    exit_code = EXIT_BAD_CONFIG
    reason = "bad_config"


class InsufficientDataError(TrainerError):
    """Too little usable market data in the window."""

    exit_code = EXIT_INSUFFICIENT_DATA
    reason = "insufficient_data"


class InvalidDataError(InsufficientDataError):
    """Market data that must not be trained on (NaN or non-positive prices); exit code 3 too."""

    reason = "invalid_data"


class DatabaseUnreachableError(TrainerError):
    """PostgreSQL could not be reached (after bounded retries) or refused the connection."""

    exit_code = EXIT_DATABASE_UNREACHABLE
    reason = "database_unreachable"


class ParityError(TrainerError):
    """onnxruntime's probabilities differ from scikit-learn's beyond the tolerance."""

    exit_code = EXIT_PARITY_FAILURE
    reason = "parity_failure"

"""Reading and writing the fields of Kubernetes bodies: spec errors, typed getters, times.

Layer: core (pure), the bottom of the core with ``intents``. Every spec parser (ModelDeployment,
Canary) reads its fields through these helpers, so every error names the field path the same way,
and every status time is written and read by the one pair ``format_time`` / ``parse_time``.
"""

import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

T = TypeVar("T")
Json = Mapping[str, Any]


class SpecError(ValueError):
    """An invalid spec field; ``field`` is its path, e.g. ``spec.training.schedule``."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


_FLOAT_MAX = sys.float_info.max  # a larger JSON integer has no float value


def join_path(path: str, key: str) -> str:
    """``path.key``, or ``key`` at the top of a body (``metadata``, not ``.metadata``)."""
    return f"{path}.{key}" if path else key


def read_field(obj: Json, key: str, path: str, kind: type[T], default: T | None = None) -> T:
    """``obj[key]`` of type ``kind`` (an int is accepted as a float); SpecError otherwise."""
    value = obj.get(key, default)
    if value is None:
        raise SpecError(join_path(path, key), "is required")
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        if abs(value) > _FLOAT_MAX:
            raise SpecError(join_path(path, key), "is out of range")
        value = float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise SpecError(join_path(path, key), f"must be of type {kind.__name__}")
    return value


def read_optional(obj: Json, key: str, path: str, kind: type[T]) -> T | None:
    """``read_field`` when the key is set, else None."""
    return read_field(obj, key, path, kind) if obj.get(key) is not None else None


def check_enum(value: str, allowed: tuple[str, ...], field: str) -> str:
    """``value`` when it is one of ``allowed``."""
    if value not in allowed:
        raise SpecError(field, f"must be one of {', '.join(allowed)} (got {value!r})")
    return value


def check_at_least(value: int, minimum: int, field: str) -> int:
    """``value`` when it is at least ``minimum``."""
    if value < minimum:
        raise SpecError(field, f"must be >= {minimum} (got {value})")
    return value


def check_within(value: int, low: int, high: int, field: str) -> int:
    """``value`` when ``low <= value <= high`` (the CRD's bounds, checked again)."""
    if not low <= value <= high:
        raise SpecError(field, f"must be within {low}..{high} (got {str(value)[:24]})")
    return value


def read_strings(obj: Json, key: str, path: str) -> tuple[str, ...]:
    """A non-empty list of distinct non-empty strings."""
    items = read_field(obj, key, path, list)
    if not items or not all(isinstance(i, str) and i for i in items):
        raise SpecError(f"{path}.{key}", "must be a non-empty list of non-empty strings")
    if len(set(items)) != len(items):
        raise SpecError(f"{path}.{key}", "must not repeat an item")
    return tuple(items)


def format_time(when: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, as Kubernetes writes times (fractions only when present)."""
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return when.replace(tzinfo=None).isoformat() + "Z"


def parse_time(text: str) -> datetime | None:
    """The inverse of ``format_time``; None when empty or unreadable."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None
    except ValueError:
        return None

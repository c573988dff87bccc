"""Durations and bounds of the Canary spec: ``30s``, ``5m``, ``1h`` and the CRD's limits.

Layer: core (pure), in ``canary``; used by ``spec`` and ``judgement_spec``. The CRD's bounds are
checked again here so that no number reaches ``timedelta`` or a loop unbounded.
"""

import re
from datetime import timedelta

from levibot_operator.core.fields import SpecError

_DURATION = re.compile(r"^([0-9]{1,12})(ms|s|m|h)$")  # ASCII digits; int() reads others too
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
MAX_DURATION = timedelta(hours=720)


def check_bounded(value: float, low: float, high: float, field: str) -> None:
    """SpecError naming ``field`` unless ``low <= value <= high`` (NaN fails too)."""
    if not low <= value <= high:
        raise SpecError(field, f"must be within {low:g}..{high:g} (got {str(value)[:24]})")


def parse_duration(text: str, field: str) -> timedelta:
    """Parse ``500ms``, ``30s``, ``5m`` or ``2h`` (one unit, as Prometheus writes them)."""
    match = _DURATION.fullmatch(text)
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)] if match else 0.0
    if not 0 < seconds <= MAX_DURATION.total_seconds():
        problem = f"must be a duration from 1ms to 720h like 30s, 5m or 1h (got {text[:40]!r})"
        raise SpecError(field, problem)
    return timedelta(seconds=seconds)


def format_duration(duration: timedelta) -> str:
    """The ``ms`` form of a duration, which ``parse_duration`` reads back exactly."""
    return f"{round(duration.total_seconds() * 1000)}ms"

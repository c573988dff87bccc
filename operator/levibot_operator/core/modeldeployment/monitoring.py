"""Parse ``spec.serving.monitoring``: the predictor's quality monitor windows.

Layer: core (pure). The operator renders these as the predictor's LEVIBOT_PREDICTOR_* settings
(docs/contracts.md); the bounds are the CRD's.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from levibot_operator.core.fields import SpecError, check_within, read_field

Json = Mapping[str, Any]


@dataclass(frozen=True)
class MonitoringSpec:
    """The predictor's quality monitors (docs/contracts.md, LEVIBOT_PREDICTOR_* env)."""

    interval_seconds: int = 15
    outcome_window: int = 1000
    drift_window_seconds: int = 1800
    drift_thin_seconds: int = 60
    drift_min_rows: int = 20
    drift_false_alarms_per_day: float = 0.1
    drift_alert_for_seconds: int = 300


def parse_monitoring(obj: Json, path: str) -> MonitoringSpec:
    """Parse ``spec.serving.monitoring``: positive counts and seconds, defaults as the CRD's."""
    d = MonitoringSpec()

    def count(key: str, default: int, least: int, most: int) -> int:
        value = read_field(obj, key, path, int, default)
        return check_within(value, least, most, f"{path}.{key}")

    return MonitoringSpec(
        interval_seconds=count("intervalSeconds", d.interval_seconds, 1, 3600),
        outcome_window=count("outcomeWindow", d.outcome_window, 10, 100_000),
        drift_window_seconds=count("driftWindowSeconds", d.drift_window_seconds, 10, 86_400),
        drift_thin_seconds=count("driftThinSeconds", d.drift_thin_seconds, 1, 3600),
        drift_min_rows=count("driftMinRows", d.drift_min_rows, 2, 100_000),
        drift_false_alarms_per_day=parse_rate(obj, path, d.drift_false_alarms_per_day),
        drift_alert_for_seconds=count("driftAlertForSeconds", d.drift_alert_for_seconds, 0, 86_400),
    )


def parse_rate(obj: Json, path: str, default: float) -> float:
    """``driftFalseAlarmsPerDay``: a rate in (0, 100]."""
    value = read_field(obj, "driftFalseAlarmsPerDay", path, float, default)
    if not 0.0 < value <= 100.0:
        raise SpecError(f"{path}.driftFalseAlarmsPerDay", f"must be within (0, 100] (got {value})")
    return value

"""Parse ``spec.serving.monitoring``: the predictor's quality monitor windows.

Layer: core (pure). The operator renders these as the predictor's LEVIBOT_PREDICTOR_* settings
(docs/contracts.md); the bounds are the CRD's.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from levibot_operator.core.fields import check_within, read_field

Json = Mapping[str, Any]


@dataclass(frozen=True)
class MonitoringSpec:
    """The predictor's quality monitors (docs/contracts.md, LEVIBOT_PREDICTOR_* env)."""

    interval_seconds: int = 15
    outcome_window: int = 1000
    drift_window_seconds: int = 1800
    drift_thin_seconds: int = 60
    drift_min_rows: int = 20


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
    )

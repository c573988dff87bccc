"""The drift loop's spec (``spec.driftRetrain``), its memory in status (``status.drift``) and
what the shell observed of drift (alerts and scores from Prometheus).

Layer: core (pure values and their JSON), in ``modeldeployment``. The memory is all the loop
keeps: which stable version drifts since when, how many drift canaries it opened (each attempt
has its own name, ``<md>-drift-<n>``), the last one and when, and why the next one waits.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from levibot_operator.core.fields import SpecError, read_field

Json = Mapping[str, Any]
FEATURE_LOOKBACK_SECONDS = 301  # levibot_common.features.LOOKBACK_SECONDS (the trainer drops it)
DEFAULT_MIN_DRIFTED_SECONDS = 3600
DEFAULT_COOL_DOWN_SECONDS = 3600
# Stage 2 (paired non-inferiority on outcomes) settles a drift retrain, and it needs 8 finished
# outcome blocks of horizon + the longest feature window (8 x 361 s = 48 min in production):
# the template's budget, sized for a same-recipe retrain that stage 1 settles, is too short.
DEFAULT_BUDGET = "2h"


@dataclass(frozen=True)
class DriftRetrainSpec:
    """``spec.driftRetrain``: how ``driftPolicy: retrainAndCanary`` retrains.

    ``min_drifted_seconds``: the retrain waits until the stable's drift alert has fired that
    long; it then trains on the rows of every second since (the drifted market only; their
    features look back ``FEATURE_LOOKBACK_SECONDS`` further, as the predictor's do; at most
    ``spec.training.dataWindowSeconds``). ``cool_down_seconds``: the least time between two drift
    canaries of the ModelDeployment (a rejected or failed retrain is tried again after it).
    ``budget``: each judged step's budget in the drift canary, whose ``onInconclusive`` is
    ``rollback`` (not shown at least as good as the stable: rejected, tried again later)."""

    min_drifted_seconds: int = DEFAULT_MIN_DRIFTED_SECONDS
    cool_down_seconds: int = DEFAULT_COOL_DOWN_SECONDS
    budget: str = DEFAULT_BUDGET  # each judged step's budget in the drift canary (a duration)


def parse_drift_retrain(
    obj: Json, horizon: int, path: str = "spec.driftRetrain"
) -> DriftRetrainSpec:
    """Parse ``spec.driftRetrain``; the drifted stretch must hold one feature window and a label."""
    least = read_field(obj, "minDriftedSeconds", path, int, DEFAULT_MIN_DRIFTED_SECONDS)
    cool = read_field(obj, "coolDownSeconds", path, int, DEFAULT_COOL_DOWN_SECONDS)
    if least <= horizon:
        problem = f"must exceed spec.horizonSeconds ({horizon}): every row needs its label"
        raise SpecError(f"{path}.minDriftedSeconds", problem)
    if cool < 0:
        raise SpecError(f"{path}.coolDownSeconds", "must not be negative")
    budget = read_field(obj, "budget", path, str, DEFAULT_BUDGET)  # checked by core.canary
    return DriftRetrainSpec(least, cool, budget)


@dataclass(frozen=True)
class DriftMemory:
    """``status.drift``: the drift loop's memory (times are RFC 3339 strings, "" when unset)."""

    version: str = ""  # the stable version seen drifting
    since: str = ""  # when the operator first saw its drift alert firing (this episode)
    alerts: tuple[str, ...] = ()  # the drift alerts firing for it
    attempts: int = 0  # drift canaries opened so far; the next is <md>-drift-<attempts + 1>
    canary: str = ""  # the last drift canary opened
    opened_at: str = ""
    waiting: str = ""  # why no drift canary is opened now (an Event when it changes)


@dataclass(frozen=True)
class DriftSeen:
    """Drift as Prometheus tells it now: the drift alerts firing by version and the latest
    normalised drift score of every version and feature. ``readable`` False: not read."""

    firing: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # version -> alerts
    scores: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  # version -> feature
    readable: bool = True


def _str(obj: Json, key: str) -> str:
    value = obj.get(key)
    return value if isinstance(value, str) else ""


def parse_drift_memory(obj: Any) -> DriftMemory:
    """``status.drift``, leniently (an unreadable field is absent)."""
    if not isinstance(obj, Mapping):
        return DriftMemory()
    attempts = obj.get("attempts")
    alerts = obj.get("alerts")
    return DriftMemory(
        version=_str(obj, "version"),
        since=_str(obj, "since"),
        alerts=tuple(str(a) for a in alerts) if isinstance(alerts, list) else (),
        attempts=attempts if isinstance(attempts, int) and not isinstance(attempts, bool) else 0,
        canary=_str(obj, "canary"),
        opened_at=_str(obj, "openedAt"),
        waiting=_str(obj, "waiting"),
    )


def build_drift_memory_json(memory: DriftMemory) -> dict[str, Any] | None:
    """``status.drift`` as JSON; None (cleared) when the loop has nothing to remember."""
    if memory == DriftMemory():
        return None
    return {
        "version": memory.version or None,
        "since": memory.since or None,
        "alerts": list(memory.alerts),
        "attempts": memory.attempts,
        "canary": memory.canary or None,
        "openedAt": memory.opened_at or None,
        "waiting": memory.waiting or None,
    }

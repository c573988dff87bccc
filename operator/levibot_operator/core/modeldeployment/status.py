"""ModelDeployment status as frozen values: parse from the object, render back, conditions.

Layer: core (pure). Status is the operator's only memory (training in flight, version history,
stable version), so parsing is lenient: an unreadable field is treated as absent.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from levibot_operator import constants as c
from levibot_operator.core.fields import format_time
from levibot_operator.core.modeldeployment.breaker_state import (
    BreakerState,
    build_breaker_json,
    parse_breaker_state,
)
from levibot_operator.core.modeldeployment.drift_memory import (
    DriftMemory,
    build_drift_memory_json,
    parse_drift_memory,
)
from levibot_operator.core.modeldeployment.paper import parse_paper_json

Json = Mapping[str, Any]


@dataclass(frozen=True)
class Condition:
    type: str
    status: str
    reason: str
    message: str = ""
    last_transition_time: str = ""
    observed_generation: int = 0


@dataclass(frozen=True)
class Training:
    """The training in flight (state Running) or waiting for its retry (state Failed)."""

    version: str
    attempt: int
    job_name: str
    fingerprint: str
    trigger: str
    state: str
    started_at: str
    failed_at: str = ""
    reason: str = ""
    message: str = ""


@dataclass(frozen=True)
class VersionRecord:
    version: str
    created: str
    metrics: Json
    registry_status: str
    fingerprint: str
    job_name: str
    reason: str = ""  # the registry's reason for its status (why rejected, retired...)
    # the latest normalised drift score per feature while it served (kept once it stops)
    drift_scores: Json = field(default_factory=dict)


@dataclass(frozen=True)
class MDStatus:
    phase: str = c.PHASE_PENDING
    message: str = ""
    observed_generation: int = 0
    stable_version: str = ""
    stable_fingerprint: str = ""
    kill_switch: bool | None = None
    last_training_time: str = ""
    training: Training | None = None
    versions: tuple[VersionRecord, ...] = ()
    conditions: tuple[Condition, ...] = ()
    versions_omitted: int = 0  # older registered versions left out of ``versions``
    handled_undo: str = ""  # the levibot.io/undo value acted on (core.modeldeployment.undo)
    circuit_breaker: BreakerState = field(default_factory=BreakerState)  # breaker_state
    paper_trading: Json = field(default_factory=dict)  # core.modeldeployment.paper
    drift: DriftMemory = field(default_factory=DriftMemory)  # core.modeldeployment.drift_retrain


RUNNING = "Running"
FAILED = "Failed"


def _str(obj: Json, key: str) -> str:
    value = obj.get(key)
    return value if isinstance(value, str) else ""


def _int(obj: Json, key: str) -> int:
    value = obj.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def parse_training_status(obj: Json | None) -> Training | None:
    """``status.training``; None when absent or incomplete."""
    if not obj or not _str(obj, "version") or _str(obj, "state") not in (RUNNING, FAILED):
        return None
    return Training(
        version=_str(obj, "version"),
        attempt=max(_int(obj, "attempt"), 1),
        job_name=_str(obj, "jobName"),
        fingerprint=_str(obj, "fingerprint"),
        trigger=_str(obj, "trigger"),
        state=_str(obj, "state"),
        started_at=_str(obj, "startedAt"),
        failed_at=_str(obj, "failedAt"),
        reason=_str(obj, "reason"),
        message=_str(obj, "message"),
    )


def parse_version_record(obj: Json) -> VersionRecord:
    """One entry of ``status.versions``."""
    metrics = obj.get("metrics")
    return VersionRecord(
        version=_str(obj, "version"),
        created=_str(obj, "created"),
        metrics=metrics if isinstance(metrics, Mapping) else {},
        registry_status=_str(obj, "registryStatus"),
        fingerprint=_str(obj, "fingerprint"),
        job_name=_str(obj, "jobName"),
        reason=_str(obj, "reason"),
        drift_scores=_scores(obj.get("driftScores")),
    )


def _scores(obj: Any) -> dict[str, float]:
    if not isinstance(obj, Mapping):
        return {}
    return {str(k): float(v) for k, v in obj.items() if isinstance(v, int | float)}


def parse_condition(obj: Json) -> Condition:
    """One entry of ``status.conditions``."""
    return Condition(
        type=_str(obj, "type"),
        status=_str(obj, "status"),
        reason=_str(obj, "reason"),
        message=_str(obj, "message"),
        last_transition_time=_str(obj, "lastTransitionTime"),
        observed_generation=_int(obj, "observedGeneration"),
    )


def parse_md_status(obj: Json | None) -> MDStatus:
    """The whole ``status`` of a ModelDeployment."""
    obj = obj or {}
    switch = obj.get("killSwitch")
    return MDStatus(
        phase=_str(obj, "phase") or c.PHASE_PENDING,
        message=_str(obj, "message"),
        observed_generation=_int(obj, "observedGeneration"),
        stable_version=_str(obj, "stableVersion"),
        stable_fingerprint=_str(obj, "stableFingerprint"),
        kill_switch=switch if isinstance(switch, bool) else None,
        last_training_time=_str(obj, "lastTrainingTime"),
        training=parse_training_status(obj.get("training")),
        versions=tuple(parse_version_record(v) for v in obj.get("versions") or ()),
        conditions=tuple(parse_condition(x) for x in obj.get("conditions") or ()),
        versions_omitted=_int(obj, "versionsOmitted"),
        handled_undo=_str(obj, "handledUndo"),
        circuit_breaker=parse_breaker_state(obj.get("circuitBreaker")),
        paper_trading=parse_paper_json(obj.get("paperTrading")),
        drift=parse_drift_memory(obj.get("drift")),
    )


def _drop_empty(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if v not in ("", None)}


def build_training_json(training: Training | None) -> dict[str, Any] | None:
    """``status.training`` as JSON (None clears it in a merge patch)."""
    if training is None:
        return None
    return _drop_empty(
        {
            "version": training.version,
            "attempt": training.attempt,
            "jobName": training.job_name,
            "fingerprint": training.fingerprint,
            "trigger": training.trigger,
            "state": training.state,
            "startedAt": training.started_at,
            "failedAt": training.failed_at,
            "reason": training.reason,
            "message": training.message,
        }
    )


def build_version_json(record: VersionRecord) -> dict[str, Any]:
    """One ``status.versions`` entry as JSON."""
    return {
        "version": record.version,
        "created": record.created,
        "metrics": dict(record.metrics),
        "registryStatus": record.registry_status,
        "fingerprint": record.fingerprint,
        "jobName": record.job_name,
        "reason": record.reason,
        **({"driftScores": dict(record.drift_scores)} if record.drift_scores else {}),
    }


def build_condition_json(cond: Condition) -> dict[str, Any]:
    """One ``status.conditions`` entry as JSON."""
    return {
        "type": cond.type,
        "status": cond.status,
        "reason": cond.reason,
        "message": cond.message,
        "lastTransitionTime": cond.last_transition_time,
        "observedGeneration": cond.observed_generation,
    }


def build_status_json(status: MDStatus) -> dict[str, Any]:
    """The whole status as a merge patch (absent training is written as null to clear it)."""
    running = status.training is not None and status.training.state == RUNNING
    return {
        "phase": status.phase,
        "message": status.message,
        "observedGeneration": status.observed_generation,
        "stableVersion": status.stable_version or None,
        "stableFingerprint": status.stable_fingerprint or None,
        "killSwitch": status.kill_switch,
        "lastTrainingTime": status.last_training_time or None,
        "trainingJob": status.training.job_name if running and status.training else None,
        "training": build_training_json(status.training),
        "versions": [build_version_json(v) for v in status.versions],
        "versionsOmitted": status.versions_omitted,
        "conditions": [build_condition_json(x) for x in status.conditions],
        "handledUndo": status.handled_undo or None,
        **build_trading_json(status),
        **({"drift": drift} if (drift := build_drift_memory_json(status.drift)) else {}),
    }


def build_trading_json(status: MDStatus) -> dict[str, Any]:
    """``circuitBreaker`` and ``paperTrading``, only once there is something to say (a status
    without them is written exactly as before issue 15)."""
    breaker = build_breaker_json(status.circuit_breaker)
    return ({"circuitBreaker": breaker} if breaker else {}) | (
        {"paperTrading": dict(status.paper_trading)} if status.paper_trading else {}
    )


def find_condition(conditions: Sequence[Condition], kind: str) -> Condition | None:
    """The condition of type ``kind``, if present."""
    return next((x for x in conditions if x.type == kind), None)


def build_conditions(
    old: Sequence[Condition], new: Sequence[Condition], now: datetime, generation: int
) -> tuple[Condition, ...]:
    """Merge new conditions over old ones, keeping lastTransitionTime when status is unchanged."""
    merged = {x.type: x for x in old}
    for cond in new:
        before = merged.get(cond.type)
        same = before is not None and before.status == cond.status
        when = before.last_transition_time if same and before else format_time(now)
        merged[cond.type] = replace(cond, last_transition_time=when, observed_generation=generation)
    order = {kind: i for i, kind in enumerate(c.CONDITION_TYPES)}
    return tuple(sorted(merged.values(), key=lambda x: order.get(x.type, len(order))))

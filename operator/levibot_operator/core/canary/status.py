"""The Canary's status: its phase enum, frozen values, and their ``.status`` (camelCase) form.

Layer: core (pure). The status is the canary's only memory: ``parse_canary_status`` and
``build_canary_status`` round-trip exactly, so the operator can stop at any instant and resume.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from levibot_operator.core.canary.analysis import CheckVerdict, Verdict
from levibot_operator.core.fields import format_time, parse_time

HISTORY_LIMIT = 20


class Phase(StrEnum):
    PENDING = "Pending"
    TRAINING = "Training"
    PROGRESSING = "Progressing"
    PAUSED = "Paused"
    PROMOTING = "Promoting"
    SUCCEEDED = "Succeeded"
    ROLLED_BACK = "RolledBack"
    FAILED = "Failed"
    HALTED = "Halted"


TERMINAL = frozenset({Phase.SUCCEEDED, Phase.ROLLED_BACK, Phase.FAILED})
SETTLE_POLL_SECONDS = 5.0  # how often a finished canary looks again until its traffic settles


@dataclass(frozen=True)
class AnalysisRun:
    """Counters of the analysis run at ``step`` (reset when a run starts)."""

    step: int
    started_at: datetime
    last_measured_at: datetime | None = None
    passes: int = 0
    failures: int = 0
    inconclusives: int = 0
    consecutive_errors: int = 0
    waits: int = 0  # measurements waiting for finished blocks: not counted in measurements

    @property
    def measurements(self) -> int:
        return self.passes + self.failures + self.inconclusives


@dataclass(frozen=True)
class HistoryEntry:
    """One decision: when, into which phase and step, why."""

    time: datetime
    phase: Phase
    step: int
    reason: str
    message: str


@dataclass(frozen=True)
class CanaryStatus:
    phase: Phase = Phase.PENDING
    reason: str = ""
    message: str = ""
    stable_version: str | None = None
    candidate_version: str | None = None
    current_step: int = 0
    step_started_at: datetime | None = None
    desired_weight: int = 0
    achieved_weight: float = 0.0
    analysis: AnalysisRun | None = None
    judgement_since: datetime | None = None  # rows pooled by every analysis step from then
    checks: tuple[CheckVerdict, ...] = ()
    halted_from: Phase | None = None
    handled_resume: str | None = None
    handled_retry: str | None = None
    handled_restart: str | None = None
    history: tuple[HistoryEntry, ...] = field(default=())


def _read_time(value: str) -> datetime:
    """A time the status must hold; ValueError when it does not parse."""
    when = parse_time(value)
    if when is None:
        raise ValueError(f"not an RFC 3339 time: {value!r}")
    return when


def _opt_time(obj: Mapping[str, Any], key: str) -> datetime | None:
    value = obj.get(key)
    return _read_time(value) if isinstance(value, str) and value else None


def _drop_none(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if v is not None}


def _finite(value: float | None) -> float | None:
    """JSON has no NaN or infinity: a non-finite number is written as absent."""
    return value if value is not None and math.isfinite(value) else None


def build_check(check: CheckVerdict) -> dict[str, Any]:
    return _drop_none(
        {
            "name": check.name,
            "value": _finite(check.value),
            "lower": _finite(check.lower),
            "upper": _finite(check.upper),
            "threshold": _finite(check.threshold),
            "comparison": check.comparison,
            "n": check.n,
            "nEff": check.n_eff,
            "gating": None if check.gating else False,
            "verdict": check.verdict.value,
            "reason": check.reason,
        }
    )


def _opt_float(obj: Mapping[str, Any], key: str) -> float | None:
    value = obj.get(key)
    return None if value is None else float(value)


def _opt_int(obj: Mapping[str, Any], key: str) -> int | None:
    value = obj.get(key)
    return None if value is None else int(value)


def parse_check(obj: Mapping[str, Any]) -> CheckVerdict:
    threshold = obj.get("threshold")
    return CheckVerdict(
        name=str(obj["name"]),
        value=_opt_float(obj, "value"),
        threshold=math.nan if threshold is None else float(threshold),
        comparison=str(obj["comparison"]),
        verdict=Verdict(obj["verdict"]),
        reason=str(obj.get("reason", "")),
        lower=_opt_float(obj, "lower"),
        upper=_opt_float(obj, "upper"),
        n=_opt_int(obj, "n"),
        n_eff=_opt_int(obj, "nEff"),
        gating=obj.get("gating") is not False,
    )


def build_analysis_run(run: AnalysisRun) -> dict[str, Any]:
    return _drop_none(
        {
            "step": run.step,
            "startedAt": format_time(run.started_at),
            "lastMeasuredAt": format_time(run.last_measured_at) if run.last_measured_at else None,
            "measurements": run.measurements,
            "passes": run.passes,
            "failures": run.failures,
            "inconclusives": run.inconclusives,
            "waits": run.waits or None,
            "consecutiveErrors": run.consecutive_errors,
        }
    )


def parse_analysis_run(obj: Mapping[str, Any]) -> AnalysisRun:
    return AnalysisRun(
        step=int(obj["step"]),
        started_at=_read_time(obj["startedAt"]),
        last_measured_at=_opt_time(obj, "lastMeasuredAt"),
        passes=int(obj.get("passes", 0)),
        failures=int(obj.get("failures", 0)),
        inconclusives=int(obj.get("inconclusives", 0)),
        consecutive_errors=int(obj.get("consecutiveErrors", 0)),
        waits=int(obj.get("waits", 0)),
    )


def build_judgement_pool(since: datetime | None) -> dict[str, Any] | None:
    """``status.judgement``: since when the analysis steps pool the paired rows."""
    return {"since": format_time(since)} if since else None


def build_history_entry(entry: HistoryEntry) -> dict[str, Any]:
    return {
        "time": format_time(entry.time),
        "phase": entry.phase.value,
        "step": entry.step,
        "reason": entry.reason,
        "message": entry.message,
    }


def parse_history_entry(obj: Mapping[str, Any]) -> HistoryEntry:
    return HistoryEntry(
        time=_read_time(obj["time"]),
        phase=Phase(obj["phase"]),
        step=int(obj["step"]),
        reason=str(obj.get("reason", "")),
        message=str(obj.get("message", "")),
    )


def build_canary_status(status: CanaryStatus) -> dict[str, Any]:
    """The ``.status`` body; every field is written (None as JSON null clears it on a patch)."""
    started = status.step_started_at
    return {
        "phase": status.phase.value,
        "reason": status.reason,
        "message": status.message,
        "stableVersion": status.stable_version,
        "candidateVersion": status.candidate_version,
        "currentStep": status.current_step,
        "stepStartedAt": format_time(started) if started else None,
        "desiredWeight": status.desired_weight,
        "achievedWeight": status.achieved_weight,
        "analysis": build_analysis_run(status.analysis) if status.analysis else None,
        "judgement": build_judgement_pool(status.judgement_since),
        "checks": [build_check(c) for c in status.checks],
        "haltedFrom": status.halted_from.value if status.halted_from else None,
        "handledResume": status.handled_resume,
        "handledRetry": status.handled_retry,
        "handledRestart": status.handled_restart,
        "history": [build_history_entry(h) for h in status.history],
    }


def parse_canary_status(obj: Mapping[str, Any] | None) -> CanaryStatus:
    """Read ``.status`` back; an empty or missing status is a fresh (Pending) canary."""
    if not obj or not obj.get("phase"):
        return CanaryStatus()
    analysis, halted = obj.get("analysis"), obj.get("haltedFrom")
    return CanaryStatus(
        phase=Phase(obj["phase"]),
        reason=str(obj.get("reason") or ""),
        message=str(obj.get("message") or ""),
        stable_version=obj.get("stableVersion"),
        candidate_version=obj.get("candidateVersion"),
        current_step=int(obj.get("currentStep") or 0),
        step_started_at=_opt_time(obj, "stepStartedAt"),
        desired_weight=int(obj.get("desiredWeight") or 0),
        achieved_weight=float(obj.get("achievedWeight") or 0.0),
        analysis=parse_analysis_run(analysis) if analysis else None,
        judgement_since=_opt_time(obj.get("judgement") or {}, "since"),
        checks=tuple(parse_check(c) for c in obj.get("checks") or ()),
        halted_from=Phase(halted) if halted else None,
        handled_resume=obj.get("handledResume"),
        handled_retry=obj.get("handledRetry"),
        handled_restart=obj.get("handledRestart"),
        history=tuple(parse_history_entry(h) for h in obj.get("history") or ()),
    )


def is_traffic_settled(status: CanaryStatus) -> bool:
    """A finished canary's traffic has settled: no share left to a rejected candidate; all of
    it to a promoted one, or none once that version itself was replaced. Until then the shell
    keeps observing, so ``achievedWeight`` follows the replicas instead of freezing."""
    if status.phase is Phase.SUCCEEDED:
        return status.achieved_weight in (0.0, 100.0)
    return status.phase not in TERMINAL or status.achieved_weight == 0.0

"""Parse a Canary's spec and control annotations into frozen dataclasses.

Layer: core (pure). The CRD schema and its CEL rules catch most mistakes; this parser checks the
same rules again (and protects against a server without the schema), and every error names the
field path, e.g. ``spec.steps[2].setWeight``.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from levibot_operator.core.canary.durations import check_bounded, parse_duration
from levibot_operator.core.canary.judgement_spec import JudgementSpec, parse_judgement
from levibot_operator.core.fields import SpecError, read_field, read_optional

T = TypeVar("T")
Json = Mapping[str, Any]

ANNOTATION_PROMOTE: str = "levibot.io/promote"
ANNOTATION_ABORT: str = "levibot.io/abort"
ANNOTATION_RESUME: str = "levibot.io/resume"
ANNOTATION_RETRY: str = "levibot.io/retry"
ANNOTATION_RESTART: str = "levibot.io/restart"

# The CRD's bounds, checked again so that no number reaches timedelta or a loop unbounded.
MAX_COUNT = 1000
MAX_MIN_SAMPLES = 10_000_000


@dataclass(frozen=True)
class Thresholds:
    """Pass criteria of one analysis; ``None`` disables a check. Max checks pass at value ≤ max."""

    min_samples: int
    ece_max: float | None = None
    ece_max_worse_than_stable: float | None = None
    ks_pvalue_min: float | None = None
    psi_max: float | None = None
    error_rate_max: float | None = None
    latency_p95_max_seconds: float | None = None


@dataclass(frozen=True)
class AnalysisSpec:
    """How one analysis run measures: every ``interval``, ``count`` times, over ``window``."""

    interval: timedelta
    count: int
    failure_limit: int
    inconclusive_limit: int
    consecutive_error_limit: int
    window: str
    thresholds: Thresholds
    judgement: JudgementSpec | None = None  # set: the statistical gates (issue 13) judge


@dataclass(frozen=True)
class SetWeightStep:
    weight: int


@dataclass(frozen=True)
class PauseStep:
    """A pause for ``duration``, or until resumed when ``duration`` is None."""

    duration: timedelta | None


@dataclass(frozen=True)
class AnalysisStep:
    analysis: AnalysisSpec


Step = SetWeightStep | PauseStep | AnalysisStep


@dataclass(frozen=True)
class CanarySpec:
    target: str
    candidate_version: str | None  # None: train a new version first
    steps: tuple[Step, ...]
    shadow_percent: int
    progress_deadline: timedelta
    # spec.candidate.dataWindowSeconds: the trained candidate's window (the drift policy's
    # retrain: the drifted market only); None: the target's spec.training.dataWindowSeconds
    data_window_seconds: int | None = None


@dataclass(frozen=True)
class CanaryControls:
    """Manual controls read from annotations; each value is an opaque token (e.g. a time)."""

    promote: str | None = None
    abort: str | None = None
    resume: str | None = None
    retry: str | None = None  # start a RolledBack/Failed canary afresh, once per token
    restart: str | None = None  # a fresh run of the current analysis step, once per token


def parse_thresholds(obj: Json, path: str) -> Thresholds:
    """Parse ``thresholds``: probabilities within 0..1, latency and minSamples positive."""
    thresholds = Thresholds(
        min_samples=read_field(obj, "minSamples", path, int, 100),
        ece_max=read_optional(obj, "eceMax", path, float),
        ece_max_worse_than_stable=read_optional(obj, "eceMaxWorseThanStable", path, float),
        ks_pvalue_min=read_optional(obj, "ksPValueMin", path, float),
        psi_max=read_optional(obj, "psiMax", path, float),
        error_rate_max=read_optional(obj, "errorRateMax", path, float),
        latency_p95_max_seconds=read_optional(obj, "latencyP95MaxSeconds", path, float),
    )
    check_bounded(thresholds.min_samples, 1, MAX_MIN_SAMPLES, f"{path}.minSamples")
    for key in ("eceMax", "eceMaxWorseThanStable", "ksPValueMin", "errorRateMax"):
        if obj.get(key) is not None:
            check_bounded(float(obj[key]), 0.0, 1.0, f"{path}.{key}")
    for key in ("psiMax", "latencyP95MaxSeconds"):
        if obj.get(key) is not None:
            check_bounded(float(obj[key]), 0.0, float("inf"), f"{path}.{key}")
    return thresholds


def _limit(obj: Json, key: str, path: str, default: int, minimum: int = 0) -> int:
    value = read_field(obj, key, path, int, default)
    check_bounded(value, minimum, MAX_COUNT, f"{path}.{key}")
    return value


def parse_analysis(obj: Json, path: str, base: AnalysisSpec | None = None) -> AnalysisSpec:
    """Parse an analysis block; a step's block overrides the fields it sets on ``base``."""
    judgement = _parse_step_judgement(obj, path, base)
    if base is not None:
        merged = {**_unparse_analysis(base), **obj}
        merged["thresholds"] = {**_unparse_thresholds(base.thresholds), **obj.get("thresholds", {})}
        obj = merged
    window = read_field(obj, "window", path, str, "5m")
    parse_duration(window, f"{path}.window")
    return AnalysisSpec(
        interval=parse_duration(read_field(obj, "interval", path, str, "1m"), f"{path}.interval"),
        count=_limit(obj, "count", path, 5, minimum=1),
        failure_limit=_limit(obj, "failureLimit", path, 0),
        inconclusive_limit=_limit(obj, "inconclusiveLimit", path, 2),
        consecutive_error_limit=_limit(obj, "consecutiveErrorLimit", path, 4),
        window=window,
        thresholds=parse_thresholds(
            read_field(obj, "thresholds", path, dict, {}), f"{path}.thresholds"
        ),
        judgement=judgement,
    )


def _parse_step_judgement(obj: Json, path: str, base: AnalysisSpec | None) -> JudgementSpec | None:
    """The block's ``judgement`` over the base's (a step inherits the analysis's)."""
    inherited = base.judgement if base is not None else None
    if obj.get("judgement") is None:
        return inherited
    block = read_field(obj, "judgement", path, dict)
    return parse_judgement(block, f"{path}.judgement", inherited)


def _unparse_thresholds(t: Thresholds) -> dict[str, Any]:
    values = {
        "minSamples": t.min_samples,
        "eceMax": t.ece_max,
        "eceMaxWorseThanStable": t.ece_max_worse_than_stable,
        "ksPValueMin": t.ks_pvalue_min,
        "psiMax": t.psi_max,
        "errorRateMax": t.error_rate_max,
        "latencyP95MaxSeconds": t.latency_p95_max_seconds,
    }
    return {k: v for k, v in values.items() if v is not None}


def _unparse_analysis(a: AnalysisSpec) -> dict[str, Any]:
    seconds = int(a.interval.total_seconds() * 1000)
    return {
        "interval": f"{seconds}ms",
        "count": a.count,
        "failureLimit": a.failure_limit,
        "inconclusiveLimit": a.inconclusive_limit,
        "consecutiveErrorLimit": a.consecutive_error_limit,
        "window": a.window,
    }


def parse_step(obj: Json, path: str, analysis: AnalysisSpec) -> Step:
    """Parse one step: exactly one of ``setWeight``, ``pause`` or ``analysis``."""
    kinds = [k for k in ("setWeight", "pause", "analysis") if obj.get(k) is not None]
    if len(kinds) != 1:
        raise SpecError(path, "must set exactly one of setWeight, pause, analysis")
    if kinds[0] == "setWeight":
        weight = read_field(obj, "setWeight", path, int)
        check_bounded(weight, 0, 100, f"{path}.setWeight")
        return SetWeightStep(weight)
    if kinds[0] == "pause":
        return _parse_pause(read_field(obj, "pause", path, dict), f"{path}.pause")
    return AnalysisStep(
        parse_analysis(read_field(obj, "analysis", path, dict), f"{path}.analysis", analysis)
    )


def _parse_pause(obj: Json, path: str) -> PauseStep:
    until_resumed = read_field(obj, "untilResumed", path, bool, False)
    duration = obj.get("duration")
    if until_resumed == (duration is not None):
        raise SpecError(path, "must set either duration or untilResumed: true")
    if duration is None:
        return PauseStep(None)
    return PauseStep(parse_duration(read_field(obj, "duration", path, str), f"{path}.duration"))


def _check_weights(steps: tuple[Step, ...]) -> None:
    last = 0
    for i, step in enumerate(steps):
        if isinstance(step, SetWeightStep):
            if step.weight < last:
                problem = f"must not decrease (got {step.weight} after {last})"
                raise SpecError(f"spec.steps[{i}].setWeight", problem)
            last = step.weight


def parse_candidate(obj: Json, path: str = "spec.candidate") -> str | None:
    """The candidate version, or None when a new version is to be trained first."""
    train = read_field(obj, "train", path, bool, False)
    version = obj.get("version")
    if train == (version is not None):
        raise SpecError(path, "must set either version or train: true")
    return None if train else read_field(obj, "version", path, str)


def parse_canary_spec(spec: Json) -> CanarySpec:
    """Parse a whole Canary ``spec``; raises SpecError naming the first bad field."""
    analysis = parse_analysis(read_field(spec, "analysis", "spec", dict, {}), "spec.analysis")
    raw_steps = read_field(spec, "steps", "spec", list)
    if not raw_steps or not all(isinstance(s, Mapping) for s in raw_steps):
        raise SpecError("spec.steps", "must be a non-empty list of steps")
    steps = tuple(parse_step(s, f"spec.steps[{i}]", analysis) for i, s in enumerate(raw_steps))
    _check_weights(steps)
    shadow = read_field(
        read_field(spec, "shadow", "spec", dict, {}), "percent", "spec.shadow", int, 0
    )
    check_bounded(shadow, 0, 100, "spec.shadow.percent")
    deadline = read_field(spec, "progressDeadline", "spec", str, "10m")
    return CanarySpec(
        target=read_field(spec, "target", "spec", str),
        candidate_version=parse_candidate(read_field(spec, "candidate", "spec", dict)),
        steps=steps,
        shadow_percent=shadow,
        progress_deadline=parse_duration(deadline, "spec.progressDeadline"),
        data_window_seconds=read_optional(
            read_field(spec, "candidate", "spec", dict), "dataWindowSeconds", "spec.candidate", int
        ),
    )


def parse_canary_controls(annotations: Mapping[str, str] | None) -> CanaryControls:
    """Read the promote / abort / resume / retry / restart annotations (empty counts as unset)."""
    notes = annotations or {}
    return CanaryControls(
        promote=notes.get(ANNOTATION_PROMOTE) or None,
        abort=notes.get(ANNOTATION_ABORT) or None,
        resume=notes.get(ANNOTATION_RESUME) or None,
        retry=notes.get(ANNOTATION_RETRY) or None,
        restart=notes.get(ANNOTATION_RESTART) or None,
    )

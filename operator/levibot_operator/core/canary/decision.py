"""The values the canary state machine reads and returns: observation, intents, decision.

Layer: core (pure). The shell gathers one ``CanaryObservation`` snapshot before deciding, and
applies a ``CanaryDecision``: traffic intent, registry intents, training, events, status.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from levibot_operator.core.canary.analysis import CheckVerdict
from levibot_operator.core.canary.drift_observation import DriftObservation
from levibot_operator.core.canary.spec import CanaryControls, CanarySpec
from levibot_operator.core.canary.status import CanaryStatus, Phase
from levibot_operator.core.intents import EventIntent, Scale, SetRegistryStatus, TrafficIntent


class CandidateTraining(StrEnum):
    """The trainer Job of the candidate version, as observed."""

    NOT_STARTED = "NotStarted"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"


@dataclass(frozen=True)
class FiringAlert:
    """A firing levibot alert for this canary's target (from the webhook)."""

    alertname: str
    version: str
    value: str | None = None


@dataclass(frozen=True)
class Measurement:
    """One analysis measurement: the check verdicts, or the error that prevented it."""

    verdicts: tuple[CheckVerdict, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class CanaryObservation:
    """Everything observed before one decision (a snapshot; the machine does no I/O)."""

    stable_version: str | None = None
    next_version: str | None = None
    training: CandidateTraining = CandidateTraining.NOT_STARTED
    training_message: str = ""  # why the candidate's training failed, in the spec's words
    traffic_provider: str | None = None  # the target's spec.traffic.provider (None: no target)
    candidate_available: bool = False
    achieved_weight: float = 0.0
    kill_switch: bool = False
    controls: CanaryControls = field(default_factory=CanaryControls)
    alert: FiringAlert | None = None
    measurement: Measurement | None = None
    # drift alerts firing for the target (core.canary.market_drift); None: not read this tick
    drift: DriftObservation | None = None


@dataclass(frozen=True)
class CanaryState:
    spec: CanarySpec
    status: CanaryStatus


@dataclass(frozen=True)
class CanaryDecision:
    """What to do now. Intents are idempotent and repeated every tick of a terminal phase.

    ``train_version``: ensure a trainer Job for it exists. ``promoted_version``: make it the
    target's stable version. ``requeue_after``: when to decide again (None: only on change).
    """

    status: CanaryStatus
    traffic: TrafficIntent
    events: tuple[EventIntent, ...] = ()
    registry: tuple[SetRegistryStatus, ...] = ()
    train_version: str | None = None
    promoted_version: str | None = None
    requeue_after: timedelta | None = None


_QUIET = TrafficIntent(0, Scale.ZERO, Scale.FULL)


def plan_traffic_intent(status: CanaryStatus) -> TrafficIntent:
    """The traffic a phase implies; a halted canary keeps the traffic it had."""
    phase = status.halted_from if status.phase is Phase.HALTED else status.phase
    if phase in (Phase.PROGRESSING, Phase.PAUSED):
        return TrafficIntent(status.desired_weight, Scale.WEIGHTED, Scale.FULL)
    if phase is Phase.PROMOTING:
        return TrafficIntent(100, Scale.FULL, Scale.FULL)
    if phase is Phase.SUCCEEDED:
        return TrafficIntent(100, Scale.FULL, Scale.ZERO)
    return _QUIET

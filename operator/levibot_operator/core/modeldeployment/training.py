"""Training decisions: when to train, which version, what a finished Job means, retry backoff.

Layer: core (pure). Status is the memory: a version is chosen and recorded in status.training
before its Job exists, so a crash anywhere re-finds the same deterministic Job name.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from levibot_operator import constants as c
from levibot_operator.core.config import CoreSettings
from levibot_operator.core.fields import format_time, parse_time
from levibot_operator.core.intents import CreateJob
from levibot_operator.core.modeldeployment.manifests import build_job_name
from levibot_operator.core.modeldeployment.observation import (
    REGISTRY_MISSING,
    REGISTRY_UNAVAILABLE,
    Snapshot,
)
from levibot_operator.core.modeldeployment.schedule import is_retraining_due, plan_next_run
from levibot_operator.core.modeldeployment.spec import ModelDeployment, build_model_fingerprint
from levibot_operator.core.modeldeployment.status import (
    FAILED,
    RUNNING,
    MDStatus,
    Training,
    VersionRecord,
)
from levibot_operator.core.modeldeployment.workloads import build_trainer_job

TRIGGER_INITIAL = "initial"
TRIGGER_SPEC = "specChange"
TRIGGER_SCHEDULE = "schedule"
TRIGGER_RETRY = "retry"


@dataclass(frozen=True)
class TrainingStep:
    status: MDStatus
    jobs: tuple[CreateJob, ...] = ()
    requeue_after: float | None = None


def parse_version_number(version: str) -> int:
    """``n`` of ``vn``; 0 for any other name."""
    digits = version[1:]
    return int(digits) if version[:1] == "v" and digits.isdigit() else 0


def is_newer_than_stable(record: VersionRecord, status: MDStatus) -> bool:
    """A version numbered after the stable one (every version, when there is no stable)."""
    return parse_version_number(record.version) > parse_version_number(status.stable_version)


def is_fingerprint_tried(status: MDStatus, fingerprint: str) -> bool:
    """A version after the stable one was trained from this spec (its canary is rolling it
    out, or rolled it back): the spec change has had its version and trains no other."""
    return any(
        r.fingerprint == fingerprint and is_newer_than_stable(r, status) for r in status.versions
    )


def decide_training_need(md: ModelDeployment, status: MDStatus, now: datetime) -> str | None:
    """Why a new training should start now (a trigger), or None."""
    if status.training is not None:
        return None
    if not status.stable_version:
        return TRIGGER_INITIAL
    fingerprint = build_model_fingerprint(md.spec)
    if status.stable_fingerprint != fingerprint and not is_fingerprint_tried(status, fingerprint):
        return TRIGGER_SPEC
    last = parse_time(status.last_training_time)
    if is_retraining_due(md.spec.training.schedule, last, now):
        return TRIGGER_SCHEDULE
    return None


def plan_next_version(status: MDStatus, highest_registered: int) -> str:
    """v<n+1> where n is the highest version known to status or the registry."""
    names = [v.version for v in status.versions]
    if status.training is not None:
        names.append(status.training.version)
    numbers = [int(n[1:]) for n in names if n[:1] == "v" and n[1:].isdigit()]
    return f"v{max([highest_registered, *numbers]) + 1}"


def plan_backoff_seconds(attempt: int, settings: CoreSettings) -> float:
    """Delay before attempt+1 after ``attempt`` failed: doubling, capped."""
    delay = settings.training_backoff_seconds * 2 ** max(attempt - 1, 0)
    return float(min(delay, settings.training_backoff_max_seconds))


def _start(snap: Snapshot, training: Training, settings: CoreSettings) -> TrainingStep:
    manifest = build_trainer_job(snap.md, training.version, settings, training.attempt)
    status = replace(snap.status, training=training, last_training_time=training.started_at)
    return TrainingStep(status=status, jobs=(CreateJob(manifest),))


def decide_new_training(snap: Snapshot, trigger: str, settings: CoreSettings) -> TrainingStep:
    """Record a new version in status and create its first Job."""
    version = plan_next_version(snap.status, snap.highest_registered)
    training = Training(
        version=version,
        attempt=1,
        job_name=build_job_name(snap.md, version, 1),
        fingerprint=build_model_fingerprint(snap.md.spec),
        trigger=trigger,
        state=RUNNING,
        started_at=format_time(snap.now),
    )
    return _start(snap, training, settings)


def decide_retry(snap: Snapshot, training: Training, settings: CoreSettings) -> TrainingStep:
    """After the backoff, the same version's next attempt; before it, wait."""
    failed_at = parse_time(training.failed_at) or snap.now
    due = failed_at + timedelta(seconds=plan_backoff_seconds(training.attempt, settings))
    if snap.now < due:
        return TrainingStep(snap.status, requeue_after=(due - snap.now).total_seconds())
    attempt = training.attempt + 1
    retry = Training(
        version=training.version,
        attempt=attempt,
        job_name=build_job_name(snap.md, training.version, attempt),
        fingerprint=build_model_fingerprint(snap.md.spec),
        trigger=TRIGGER_RETRY,
        state=RUNNING,
        started_at=format_time(snap.now),
    )
    return _start(snap, retry, settings)


def decide_failure(snap: Snapshot, training: Training, reason: str, message: str) -> TrainingStep:
    """Mark the attempt failed; serving is untouched."""
    failed = replace(
        training, state=FAILED, failed_at=format_time(snap.now), reason=reason, message=message
    )
    return TrainingStep(replace(snap.status, training=failed), requeue_after=0.0)


def decide_success(snap: Snapshot, training: Training, settings: CoreSettings) -> TrainingStep:
    """The Job succeeded: learn the version from the registry. The first version becomes
    stable; a later one stays a candidate in the history, for a Canary to roll out (rollout)."""
    registry = snap.registry
    if registry is None or registry.state == REGISTRY_UNAVAILABLE:
        return TrainingStep(snap.status, requeue_after=settings.retry_delay_seconds)
    if registry.state == REGISTRY_MISSING:
        message = f"job {training.job_name} succeeded but {training.version} is not in the registry"
        return decide_failure(snap, training, c.REASON_VERSION_NOT_REGISTERED, message)
    record = VersionRecord(
        version=training.version,
        created=registry.created or format_time(snap.now),
        metrics=dict(registry.metrics),
        registry_status=registry.registry_status,
        fingerprint=training.fingerprint,
        job_name=training.job_name,
    )
    kept = tuple(v for v in snap.status.versions if v.version != training.version)
    versions = (*kept, record)[-settings.version_history_limit :]
    status = replace(snap.status, training=None, versions=versions)
    if snap.status.stable_version:
        return TrainingStep(status)
    stable = replace(
        status, stable_version=training.version, stable_fingerprint=training.fingerprint
    )
    return TrainingStep(stable)


def decide_running(snap: Snapshot, training: Training, settings: CoreSettings) -> TrainingStep:
    """A training is in flight: (re)create its Job, or act on its outcome."""
    job = snap.job
    if job is None:
        manifest = build_trainer_job(snap.md, training.version, settings, training.attempt)
        return TrainingStep(snap.status, jobs=(CreateJob(manifest),))
    if job.failed:
        message = job.message or f"job {job.name} failed"
        return decide_failure(snap, training, c.REASON_TRAINING_FAILED, message)
    if job.succeeded:
        return decide_success(snap, training, settings)
    return TrainingStep(snap.status)


def plan_schedule_wait(snap: Snapshot) -> float | None:
    """Seconds until the next scheduled retraining, if there is a schedule."""
    schedule = snap.md.spec.training.schedule
    last = parse_time(snap.status.last_training_time)
    nxt = plan_next_run(schedule, last) if schedule is not None and last is not None else None
    return None if nxt is None else max((nxt - snap.now).total_seconds(), 0.0)


def decide_training(snap: Snapshot, settings: CoreSettings) -> TrainingStep:
    """One step of the training state machine."""
    training = snap.status.training
    if training is not None and training.state == RUNNING:
        return decide_running(snap, training, settings)
    if training is not None:
        return decide_retry(snap, training, settings)
    trigger = decide_training_need(snap.md, snap.status, snap.now)
    if trigger is not None and trigger != TRIGGER_INITIAL and snap.live_canaries:
        # One rollout at a time: the next version is trained once the live Canary has ended.
        return TrainingStep(snap.status, requeue_after=settings.retry_delay_seconds)
    if trigger is not None and snap.registry_error is not None:
        # The next version number comes from the registry: wait for it rather than guess.
        return TrainingStep(snap.status, requeue_after=settings.retry_delay_seconds)
    if trigger is not None:
        return decide_new_training(snap, trigger, settings)
    return TrainingStep(snap.status, requeue_after=plan_schedule_wait(snap))

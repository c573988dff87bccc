"""The drift loop (``driftPolicy: retrainAndCanary``): retrain on the drifted market and let a
Canary judge the new version against the stable on that market.

Layer: core (pure), in ``modeldeployment``. Status is the memory (``status.drift``,
``drift_memory``); each reconcile decides afresh from it and from Prometheus' answer:

- The stable version drifts while its drift alert fires (read from Prometheus, so the loop needs
  no delivery and survives a restart); ``since`` is when the operator first saw it firing.
- The retrain's training window: it waits until the drift has lasted
  ``spec.driftRetrain.minDriftedSeconds`` (default 1 h), then trains on the rows from ``since``
  (kept across a promotion while the new stable drifts too: ``remember_drift``) to its Job's
  start (the window reaches the features' look-back further, as the predictor's
  features do; capped at ``spec.training.dataWindowSeconds``).
  The alert fires only after the drift score has stayed above 1 for its persistence, so the
  window holds the drifted market only: a retrain on a window reaching back before the drift
  would mostly relearn the stable. A later attempt trains on a longer drifted stretch.
  ``minDriftedSeconds`` must give the trainer its floor of rows (symbols x (minDriftedSeconds -
  horizon) x 0.8 at least 1,000); ``bench/drift_loop.py`` measures the whole loop offline.
- Its Canary is built from the ModelDeployment's canary template for the trigger ``drift``:
  stage 1's ``onDifferent`` is ``evaluate`` (the market moved, a difference is expected), so
  the paired comparison on outcomes decides: promoted when at least as good as the stable,
  rolled back with the reason otherwise, also when its budget (``spec.driftRetrain.budget``,
  long enough for stage 2's outcome blocks) ends without a verdict. The market's drift never
  pauses this canary. Its calibration test is ``relativeToStable``: a retrain on minutes of a
  new market is rarely calibrated to the letter, and the stable, trained for the market that
  is gone, is much worse (measured on the demo market: the stable's p-value below 1e-6 after
  20 min in 8 of 8 seeds, the retrain's ECE 0.02-0.11 against the stable's 0.14-0.20); the
  test still rejects a retrain miscalibrated where the stable is not.
- No storm: at most one live canary per ModelDeployment (a drift canary waits for any live
  one), and ``spec.driftRetrain.coolDownSeconds`` between two drift canaries; each attempt has
  its own name ``<md>-drift-<n>``, so a failed or rejected retrain is tried again after the
  cool-down. An Event says why the loop opens a canary or waits, once per change.
- Idempotent: the attempt is written to status before its Canary is created (create-only, a
  deterministic name); a crash in between re-creates it within a short grace.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from levibot_operator import constants as c
from levibot_operator.core.fields import format_time, parse_time
from levibot_operator.core.intents import CreateCanary, EventIntent
from levibot_operator.core.modeldeployment.canary_template import TRIGGER_DRIFT, build_template_spec
from levibot_operator.core.modeldeployment.drift_memory import (
    FEATURE_LOOKBACK_SECONDS,
    DriftMemory,
    DriftSeen,
)
from levibot_operator.core.modeldeployment.manifests import build_labels, build_metadata, build_name
from levibot_operator.core.modeldeployment.spec import ModelDeployment
from levibot_operator.core.modeldeployment.status import MDStatus

DRIFT_POLICY_RETRAIN = "retrainAndCanary"
CREATE_GRACE = timedelta(minutes=5)  # re-create a drift canary written to status but not found


@dataclass(frozen=True)
class DriftStep:
    status: MDStatus
    canaries: tuple[CreateCanary, ...] = ()
    events: tuple[EventIntent, ...] = ()
    requeue_after: float | None = None


def build_drift_canary_name(md: ModelDeployment, attempt: int) -> str:
    """``<md>-drift-<n>``: one name per attempt, never reused."""
    return build_name(md.name, "drift", str(attempt))


def build_drift_canary(
    md: ModelDeployment, attempt: int, window_seconds: int, why: str
) -> dict[str, Any]:
    """The Canary that retrains ``md`` on the last ``window_seconds`` and rolls the new version
    out as the canary template says for the trigger ``drift``."""
    labels = build_labels(md, "canary", **{c.LABEL_TRIGGER: TRIGGER_DRIFT})
    metadata = build_metadata(md, build_drift_canary_name(md, attempt), labels)
    metadata["annotations"] = {f"{c.ANNOTATION_PREFIX}/opened-by": why}
    return {
        "apiVersion": c.API_VERSION,
        "kind": c.CANARY_KIND,
        "metadata": metadata,
        "spec": {
            "target": md.name,
            "candidate": {"train": True, "dataWindowSeconds": window_seconds},
            **build_drift_canary_spec(md),
        },
    }


def update_drift_scores(status: MDStatus, seen: DriftSeen | None) -> MDStatus:
    """The latest drift scores into each version's record (the history keeps the last ones)."""
    if seen is None or not seen.readable or not seen.scores:
        return status
    versions = tuple(
        replace(r, drift_scores=dict(seen.scores[r.version])) if r.version in seen.scores else r
        for r in status.versions
    )
    return replace(status, versions=versions)


def remember_drift(memory: DriftMemory, stable: str, seen: DriftSeen, now: datetime) -> DriftMemory:
    """The episode: kept while the stable version drifts, forgotten when it stops. A version
    promoted while the episode is open (the drift retrain itself) that drifts too carries the
    episode on from its ``since``: the market has not come back, and the next retrain trains on
    the whole drifted stretch, longer each generation. A retrain on minutes of the new market
    has a reference and thresholds from those minutes, and drifts against them; with a fresh
    ``since`` every generation would learn from ``minDriftedSeconds`` again."""
    alerts = tuple(seen.firing.get(stable, ()))
    if not alerts:  # the version stays named, so the cleared fields are written (as null)
        return replace(memory, since="", alerts=(), waiting="")
    if memory.since:  # the same episode; a new version's wait is told afresh
        waiting = memory.waiting if memory.version == stable else ""
        return replace(memory, version=stable, alerts=alerts, waiting=waiting)
    return replace(memory, version=stable, since=format_time(now), alerts=alerts, waiting="")


def decide_wait(
    md: ModelDeployment, memory: DriftMemory, live: tuple[str, ...], now: datetime
) -> tuple[str, float | None] | None:
    """Why no drift canary opens now, and when to look again; None: open one."""
    if live:
        return f"canary {live[0]} is live; one rollout at a time", None
    opened = parse_time(memory.opened_at)
    spec = md.spec.drift_retrain
    if opened is not None and now < opened + timedelta(seconds=spec.cool_down_seconds):
        until = opened + timedelta(seconds=spec.cool_down_seconds)
        text = f"cool-down after {memory.canary} until {format_time(until)}"
        return text, (until - now).total_seconds()
    since = parse_time(memory.since) or now
    ready = since + timedelta(seconds=spec.min_drifted_seconds)
    if now < ready:
        text = (
            f"{memory.version} drifting since {memory.since}: retraining on the drifted market "
            f"once it has lasted {spec.min_drifted_seconds} s (at {format_time(ready)})"
        )
        return text, (ready - now).total_seconds()
    return None


def plan_window_seconds(md: ModelDeployment, since: datetime, now: datetime) -> int:
    """The retrain's data window: the drifted stretch plus the features' look-back (the trainer
    drops the rows whose features reach before its window), at most the training window."""
    drifted = int((now - since).total_seconds())
    return min(drifted + FEATURE_LOOKBACK_SECONDS, md.spec.training.data_window_seconds)


def judge_drift_retrain(analysis: Any, budget: str) -> None:
    """A judged analysis block of the drift canary: ``budget`` per step, rejected when not
    shown at least as good as the stable within it (``onInconclusive: rollback``), calibration
    tested relative to the stable."""
    if isinstance(analysis, dict) and isinstance(analysis.get("judgement"), dict):
        judgement = analysis["judgement"]
        calibration = judgement.get("calibration")
        analysis["judgement"] = {
            **judgement, "budget": budget, "onInconclusive": "rollback",
            "calibration": {**(calibration if isinstance(calibration, dict) else {}),
                            "relativeToStable": True},
        }  # fmt: skip


def build_drift_canary_spec(md: ModelDeployment) -> dict[str, Any]:
    """The template's Canary spec for the trigger ``drift`` (stage 1 ``onDifferent: evaluate``)
    with the drift retrain's budget and ``onInconclusive``."""
    spec = build_template_spec(md.spec.canary_template, TRIGGER_DRIFT)
    budget = md.spec.drift_retrain.budget
    judge_drift_retrain(spec.get("analysis"), budget)
    for step in spec.get("steps") or ():
        judge_drift_retrain(step.get("analysis") if isinstance(step, dict) else None, budget)
    return spec


def open_drift_canary(
    md: ModelDeployment, memory: DriftMemory, now: datetime
) -> tuple[DriftMemory, CreateCanary, EventIntent]:
    """The next attempt: its memory, its Canary and the Event saying why."""
    window = plan_window_seconds(md, parse_time(memory.since) or now, now)
    attempt = memory.attempts + 1
    name = build_drift_canary_name(md, attempt)
    why = (
        f"{memory.version} drifting since {memory.since} ({', '.join(memory.alerts)}): canary "
        f"{name} retrains on the drifted market, a {window}-s window (attempt {attempt})"
    )
    opened = replace(memory, attempts=attempt, canary=name, opened_at=format_time(now), waiting="")
    canary = CreateCanary(build_drift_canary(md, attempt, window, why))
    return opened, canary, EventIntent(c.EVENT_DRIFT_RETRAIN, why)


def plan_recreate(
    md: ModelDeployment, memory: DriftMemory, names: tuple[str, ...], now: datetime
) -> tuple[CreateCanary, ...]:
    """The last attempt's Canary again when status has it but the API server does not, shortly
    after it was written (a crash between the two writes); later, it was deleted on purpose."""
    opened = parse_time(memory.opened_at)
    if not memory.canary or memory.canary in names or opened is None:
        return ()
    if now - opened > CREATE_GRACE:
        return ()
    window = plan_window_seconds(md, parse_time(memory.since) or opened, opened)
    why = f"{memory.version} drifting since {memory.since}: attempt {memory.attempts} re-created"
    return (CreateCanary(build_drift_canary(md, memory.attempts, window, why)),)


def plan_drift_retrain(
    md: ModelDeployment,
    status: MDStatus,
    seen: DriftSeen | None,
    canaries: tuple[tuple[str, ...], tuple[str, ...]],
    now: datetime,
) -> DriftStep:
    """One step of the loop; ``canaries``: (live names, every name) of the target's Canaries."""
    status = update_drift_scores(status, seen)
    stable = status.stable_version
    if md.spec.drift_policy != DRIFT_POLICY_RETRAIN or not stable or seen is None:
        return DriftStep(status)
    live, names = canaries
    memory = status.drift
    recreate = plan_recreate(md, memory, names, now)
    if not seen.readable:
        return DriftStep(status, recreate)
    memory = remember_drift(memory, stable, seen, now)
    if not memory.since:
        return DriftStep(replace(status, drift=memory), recreate)
    wait = decide_wait(md, memory, live, now) if not recreate else ("re-creating", None)
    if wait is None:
        memory, canary, event = open_drift_canary(md, memory, now)
        return DriftStep(replace(status, drift=memory), (canary,), (event,))
    text, requeue = wait
    events = (
        () if text == memory.waiting or recreate else (EventIntent(c.EVENT_DRIFT_WAITING, text),)
    )
    memory = replace(memory, waiting=memory.waiting if recreate else text)
    return DriftStep(replace(status, drift=memory), recreate, events, requeue)

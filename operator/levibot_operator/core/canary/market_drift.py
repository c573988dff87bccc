"""Market drift vs model fault while a canary runs: pause for the market, roll back for the model.

Layer: core (pure), called by the state machine. A drift alert describes the market the
predictors see. When the stable version drifts, the candidate sees the same market: the canary
pauses with reason ``MarketDrift`` at the traffic it has (promotion frozen: no step, analysis,
resume or promote acts), and starts its current step afresh once no drift alert fires any more
(the shell reads the alert's state from Prometheus every tick, so a lost resolved notification
cannot leave it paused). A drift that only the candidate sees is the candidate's own fault: its
reference differs from the stable's. It is told apart over a confirmation span, the drift window
plus the alert's ``for`` (``plan_confirm_seconds``: by then a change of the market fills the
stable's whole window too): a candidate's drift alert rolls the canary back (``CandidateDrift``)
only when the candidate's highest score stayed above 1 throughout the span while the stable's
stayed at or under half its threshold (``STABLE_CALM_LIMIT``). Otherwise (the stable higher at
some point, the candidate not yet
above 1 for the whole span, or no reading) it is the market, and the canary is held: when the
market moves, one version's score often crosses 1 a little before the other's, and that race
must not reject a healthy candidate. A canary opened by the drift policy exists to be judged on
the drifted market: the market's drift never pauses it.
"""

from datetime import datetime, timedelta
from enum import StrEnum

from levibot_operator import constants as c
from levibot_operator.core.canary.decision import CanaryDecision, CanaryObservation, CanaryState
from levibot_operator.core.canary.drift_observation import DriftObservation
from levibot_operator.core.canary.status import CanaryStatus, Phase
from levibot_operator.core.canary.transitions import (
    build_decision,
    enter_step,
    roll_back,
    transition,
)

DRIFT_ALERT_PREFIX = "LevibotFeatureDrift"
DRIFT_SCORE_LIMIT = 1.0  # a normalised drift score above this is outside the calibrated range
# The stable "does not see" a drift only while its score stays at or under half its own
# threshold: a stable near 1 is moving with the market (versions' thresholds differ, so their
# scores cross 1 at different times; an e2e run read the stable at 0.92 when the candidate had
# been above 1 for the whole span), and healthy stables read 0.1-0.35 on the demo's market.
STABLE_CALM_LIMIT = 0.5
DRIFT_POLL = timedelta(seconds=10)  # how often a held canary asks whether the drift still fires
HOLDABLE = frozenset({Phase.PROGRESSING, Phase.PAUSED})
LIVE = frozenset({Phase.PROGRESSING, Phase.PAUSED, Phase.PROMOTING, Phase.HALTED})
_KILL_SWITCH_REASONS = frozenset({c.REASON_HALTED, c.REASON_UNHALTED})


class DriftKind(StrEnum):
    MARKET = "market"
    CANDIDATE = "candidate"


def is_drift_alert(alertname: str) -> bool:
    """A feature-drift alert (the chart's ``LevibotFeatureDrift*`` rules)."""
    return alertname.startswith(DRIFT_ALERT_PREFIX)


def assess_drift(drift: DriftObservation | None, status: CanaryStatus) -> DriftKind | None:
    """Whose drift fires: the market's (the stable's alert, or the candidate's while the stable's
    score is above 1 or unknown), the candidate's alone, or nobody's."""
    if drift is None or not drift.alerts:
        return None
    if drift.names(status.stable_version):
        return DriftKind.MARKET
    if not drift.names(status.candidate_version):
        return None
    stable, candidate = drift.stable_score, drift.candidate_score
    confirmed = (
        stable is not None
        and stable <= STABLE_CALM_LIMIT
        and candidate is not None
        and candidate > DRIFT_SCORE_LIMIT
    )
    return DriftKind.CANDIDATE if confirmed else DriftKind.MARKET


def is_drift_held(status: CanaryStatus) -> bool:
    """Paused by the market's drift: the last transition, kill-switch ones aside, says so."""
    if status.phase is not Phase.PAUSED:
        return False
    entries = [h for h in status.history if h.reason not in _KILL_SWITCH_REASONS]
    return bool(entries) and entries[-1].reason == c.REASON_MARKET_DRIFT


def describe_drift(drift: DriftObservation, status: CanaryStatus) -> str:
    """``LevibotFeatureDriftScore on v2 (stable), v3 (candidate); stable score 2.31``."""
    parts = [
        f"{', '.join(drift.names(version))} on {version} ({track})"
        for version, track in (
            (status.stable_version, "stable"),
            (status.candidate_version, "candidate"),
        )
        if drift.names(version)
    ]

    def shown(score: float | None) -> str:
        return "unknown" if score is None else f"{score:.2f}"

    scores = f"stable drift score {shown(drift.stable_score)}"
    if drift.candidate_score is not None:
        scores += f", candidate {shown(drift.candidate_score)}"
    return f"{'; '.join(parts)}; {scores}"


def decide_candidate_drift(
    status: CanaryStatus, seen: CanaryObservation, now: datetime
) -> CanaryDecision | None:
    """Drift only the candidate sees rolls it back, naming the alert and the stable's score."""
    drift = seen.drift
    if status.phase not in LIVE or drift is None:
        return None
    if assess_drift(drift, status) is not DriftKind.CANDIDATE:
        return None
    message = (
        f"drift only the candidate sees: {describe_drift(drift, status)} "
        f"(over the confirmation span, the stable's never above {STABLE_CALM_LIMIT:g}, the "
        f"candidate's always above {DRIFT_SCORE_LIMIT:g}): its reference differs from the stable's"
    )
    return roll_back(status, now, c.REASON_CANDIDATE_DRIFT, message)


def decide_market_drift(
    state: CanaryState, status: CanaryStatus, seen: CanaryObservation, now: datetime
) -> CanaryDecision | None:
    """Pause for the market's drift with traffic held; start the current step afresh once it
    no longer fires; None when the market's drift has nothing to do with this tick."""
    drift = seen.drift
    market = assess_drift(drift, status) is DriftKind.MARKET and not (drift and drift.drift_canary)
    held = is_drift_held(status)
    if market and held:
        return build_decision(status, requeue=DRIFT_POLL)
    if market and drift is not None and status.phase in HOLDABLE:
        message = f"market drift, promotion frozen at weight {status.desired_weight}: "
        message += describe_drift(drift, status)
        return transition(
            status, now, Phase.PAUSED, c.REASON_MARKET_DRIFT, message,
            warning=True, requeue=DRIFT_POLL, analysis=None,
        )  # fmt: skip
    if held and drift is None:  # the alerts could not be read: stay frozen, ask again
        return build_decision(status, requeue=DRIFT_POLL)
    if held:  # the alerts were read and none of the market's fires: the market is back
        return enter_step(state, status, status.current_step, now, c.REASON_MARKET_DRIFT_ENDED)
    return None


def build_drift_alerts_query(namespace: str, target: str) -> str:
    """PromQL: the drift alerts firing for a ModelDeployment, one series per (alert, version)."""
    selector = (
        f'alertstate="firing",alertname=~"{DRIFT_ALERT_PREFIX}.*",'
        f'namespace="{namespace}",modeldeployment="{target}"'
    )
    return f"max by (alertname, version) (ALERTS{{{selector}}})"


def plan_confirm_seconds(drift_window_seconds: int, alert_for_seconds: int) -> int:
    """The span over which a drift only the candidate sees is confirmed: the drift window (a
    market change has then filled the stable's window as well) plus the alert's ``for``."""
    return drift_window_seconds + alert_for_seconds


def build_drift_score_query(
    namespace: str, target: str, version: str, *, seconds: int, lowest: bool = False
) -> str:
    """PromQL: one version's highest normalised drift score over features and statistics, at
    its highest over the last ``seconds`` (``lowest``: at its lowest, so above 1 only when it
    stayed above 1 throughout)."""
    selector = f'namespace="{namespace}",model="{target}",version="{version}"'
    over = "min_over_time" if lowest else "max_over_time"
    return f"{over}(max(levibot_feature_drift_score{{{selector}}})[{seconds}s:])"

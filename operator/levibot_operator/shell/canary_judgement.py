"""The I/O of a canary's statistical judgement: read the paired rows, judge, keep the shadow pair.

Layer: shell. ``fetch_judged_measurement`` turns an analysis with a ``judgement`` into one
``Measurement``: the paired shadow rows since the candidate started being measured
(``status.judgement.since``, pooled by every analysis step; the run's start for a status
written before that field existed; ``adapters.predictionlog``), the stable's envelope and
its paired-trading retraining noise (for the trading checks' band),
``core.canary.judgement.assess_judgement`` (numpy work, run off the event loop) and the
Prometheus values of the server checks. An unreachable database is a measurement error
(counted against consecutiveErrorLimit), never an exception. ``apply_shadow_state`` keeps
the registry's shadow pair in step with the canary: written while it is live, so that every
predictor scores both versions, and cleared once it is finished.
"""

import asyncio
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime

from kubernetes_asyncio.client import ApiClient

from levibot_operator.adapters import predictionlog
from levibot_operator.adapters.registry import RegistryUnavailableError
from levibot_operator.core.canary.analysis import Values
from levibot_operator.core.canary.decision import Measurement
from levibot_operator.core.canary.judgement import assess_judgement
from levibot_operator.core.canary.judgement_checks import (
    assess_judged_checks,
    count_judged_steps,
    plan_judgement_context,
)
from levibot_operator.core.canary.spec import AnalysisSpec, CanarySpec
from levibot_operator.core.canary.status import CanaryStatus, Phase
from levibot_operator.core.modeldeployment.spec import ModelDeployment
from levibot_operator.settings import OperatorSettings

log = logging.getLogger(__name__)
PairKey = tuple[str, str, str] | None  # (stable, candidate, canary) last written; None: cleared
UNKNOWN = "unknown"  # what the registry holds is not known (e.g. after a restart): write it
LIVE = frozenset({Phase.PROGRESSING, Phase.PAUSED, Phase.PROMOTING, Phase.HALTED})


def plan_version_pair(
    md: ModelDeployment, status: CanaryStatus
) -> predictionlog.VersionPair | None:
    """The canary's two versions, once both are known and differ."""
    stable, candidate = status.stable_version, status.candidate_version
    if not stable or not candidate or stable == candidate:
        return None
    return predictionlog.VersionPair(md.model_name, stable, candidate)


async def fetch_judged_measurement(
    api: ApiClient,
    settings: OperatorSettings,
    md: ModelDeployment,
    *,
    canary: CanarySpec,
    analysis: AnalysisSpec,
    status: CanaryStatus,
    values: Values,
    now: datetime,
) -> Measurement:
    """One measurement of an analysis with a judgement (see the module docstring)."""
    judgement, pair, run = analysis.judgement, plan_version_pair(md, status), status.analysis
    if judgement is None or pair is None or run is None:
        return Measurement(error="no judgement, version pair or analysis run to measure")
    since = status.judgement_since or run.started_at
    try:
        rows, envelope, noise = await predictionlog.fetch_judgement_input(
            api, md, pair, (since, now), settings
        )
    except RegistryUnavailableError as exc:
        log.warning("judgement of %s/%s: %s", md.namespace, md.name, exc)
        return Measurement(error=str(exc))
    target = (md.spec.horizon_seconds, md.spec.features)
    window = (since.timestamp(), now.timestamp())
    context = plan_judgement_context(
        judgement, target, window, envelope, runs=count_judged_steps(canary)
    )
    context = replace(  # paper trades' fee, slippage; the stable's paired-trading noise
        context, costs=md.spec.trading.costs(), trading_noise=noise
    )
    result = await asyncio.to_thread(assess_judgement, rows, judgement, context)
    return Measurement(verdicts=assess_judged_checks(values, analysis.thresholds, result))


def plan_shadow_key(md: ModelDeployment, canary: str, status: CanaryStatus) -> PairKey:
    """The pair a canary in ``status`` wants in the registry: from its first step (the
    candidate is registered by then) until it is finished; none before and after."""
    pair = plan_version_pair(md, status)
    live = status.phase in LIVE
    return (pair.stable_version, pair.candidate_version, canary) if pair and live else None


async def apply_shadow_state(
    api: ApiClient,
    settings: OperatorSettings,
    md: ModelDeployment,
    *,
    canary: str,
    status: CanaryStatus,
    written: PairKey | str = UNKNOWN,
) -> PairKey | str:
    """Write or clear the shadow pair unless ``written`` already says so; return what the
    registry now holds for this canary (``written`` unchanged when the database failed)."""
    wanted = plan_shadow_key(md, canary, status)
    if wanted == written:
        return written
    try:
        if wanted is None:
            await predictionlog.clear_pair(api, md, canary, settings)
        else:
            pair = predictionlog.VersionPair(md.model_name, wanted[0], wanted[1])
            await predictionlog.apply_pair(api, md, pair, canary, settings)
    except RegistryUnavailableError as exc:
        log.warning("shadow pair of %s/%s not written: %s", md.namespace, canary, exc)
        return written
    return wanted


@dataclass
class ShadowPairs:
    """What each canary last wrote as its shadow pair, so a live canary writes it once (and
    again after a restart or a database failure), and a finished one clears it once."""

    written: dict[tuple[str, str], PairKey | str] = field(default_factory=dict)

    async def keep(
        self, api: ApiClient, settings: OperatorSettings, md: ModelDeployment, canary: str,
        status: CanaryStatus,
    ) -> None:  # fmt: skip
        """Bring the registry's pair in step with ``status`` (see ``apply_shadow_state``)."""
        key = (md.namespace, canary)
        self.written[key] = await apply_shadow_state(
            api, settings, md, canary=canary, status=status,
            written=self.written.get(key, UNKNOWN),
        )  # fmt: skip

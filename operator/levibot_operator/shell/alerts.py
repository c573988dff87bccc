"""The webhook's callback: a firing levibot alert rolls the matching canary back at once, or
(for the stable version) applies the target's drift policy.

Layer: shell. Runs in EVERY replica, leader or not: the rollback decision is
idempotent and its status write is guarded by the canary's resourceVersion, so a follower
applies the rollback itself (no forwarding hop, so the < 1 s path never waits for the leader);
the leader's next periodic decision reads the RolledBack status and repeats nothing harmful.

The webhook calls it concurrently for different ModelDeployments; calls that need the same
namespace's Canaries at the same time share one LIST (nothing is cached once it has answered,
so a later alert always reads afresh). A decision on a slightly older list is safe: the
rollback re-reads the canary before it writes, and a drift Canary has a deterministic name.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from levibot_operator import constants as c
from levibot_operator.adapters import kube
from levibot_operator.core.alerts.dispatch import (
    build_drift_canary,
    find_alerted_canaries,
    find_live_canaries,
)
from levibot_operator.core.alerts.payload import AlertTarget, is_model_quality_alert
from levibot_operator.core.canary.decision import FiringAlert
from levibot_operator.core.canary.template import parse_checked_modeldeployment
from levibot_operator.core.fields import SpecError
from levibot_operator.core.modeldeployment.status import parse_md_status
from levibot_operator.shell.canary import CanaryReconciler

log = logging.getLogger(__name__)
DRIFT_POLICY_RETRAIN = "retrainAndCanary"


class SharedReads:
    """Concurrent reads of one key share one request, which is forgotten once it answers."""

    def __init__(self) -> None:
        self._pending: dict[str, asyncio.Future[list[kube.Body]]] = {}

    async def fetch(
        self, key: str, read: Callable[[], Awaitable[list[kube.Body]]]
    ) -> list[kube.Body]:
        pending = self._pending.get(key)
        if pending is None or pending.done():
            pending = asyncio.ensure_future(read())
            self._pending[key] = pending
            pending.add_done_callback(lambda done: self._forget(key, done))
        return await asyncio.shield(pending)  # one caller cancelled must not cancel the others

    def _forget(self, key: str, done: asyncio.Future[list[kube.Body]]) -> None:
        if self._pending.get(key) is done:
            del self._pending[key]


@dataclass
class AlertHandler:
    """``on_alert`` for ``build_webhook_app``."""

    canaries: CanaryReconciler
    reads: SharedReads = field(default_factory=SharedReads)

    async def __call__(self, alert: AlertTarget) -> bool:
        """Act on one firing alert; False while it must be looked at again on a repeat (drift
        on the stable version while a canary runs: the policy waits for that canary to end)."""
        self.canaries.metrics.alerts.inc()
        api, ns = self.canaries.api, alert.namespace
        bodies = await self.reads.fetch(
            ns, lambda: kube.fetch_list(api, c.API_VERSION, c.CANARY_KIND, ns, {})
        )
        names = find_alerted_canaries(bodies, alert)
        firing = FiringAlert(alert.alertname, alert.version, alert.value)
        for name in names:
            await self.canaries.roll_back_on_alert(ns, name, firing)
        if names or not is_model_quality_alert(alert.alertname):
            return True
        if find_live_canaries(bodies, alert.modeldeployment):
            return False
        await self.apply_drift_policy(alert)
        return True

    async def apply_drift_policy(self, alert: AlertTarget) -> None:
        """The stable version drifts: retrain and open a Canary when the policy says so."""
        api = self.canaries.api
        body = await kube.fetch_object(
            api, c.API_VERSION, c.MODELDEPLOYMENT_KIND, alert.namespace, alert.modeldeployment
        )
        if body is None:
            log.info("alert %s for unknown target %s", alert.alertname, alert.modeldeployment)
            return
        try:
            md = parse_checked_modeldeployment(body)
        except SpecError:
            return
        stable = parse_md_status(body.get("status")).stable_version
        if stable != alert.version or md.spec.drift_policy != DRIFT_POLICY_RETRAIN:
            log.info("alert %s for %s %s: no action", alert.alertname, md.name, alert.version)
            return
        created = await kube.apply_created(api, build_drift_canary(md, stable, alert))
        log.info("drift on %s %s: retraining canary %s", md.name, stable, created)

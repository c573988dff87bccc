"""The webhook's callback: a firing levibot alert rolls the matching canary back at once; a
drift alert makes every live canary of its target decide at once (``core.canary.market_drift``:
the market's drift pauses it, a drift only the candidate sees rolls it back). The drift policy
(retrain and canary) is the ModelDeployment's own loop (``core.modeldeployment.drift_retrain``),
which reads the alert's state from Prometheus: no delivery is needed to start or stop it.

Layer: shell. Runs in EVERY replica, leader or not: the rollback decision is
idempotent and its status write is guarded by the canary's resourceVersion, so a follower
applies the rollback itself (no forwarding hop, so the < 1 s path never waits for the leader);
the leader's next periodic decision reads the RolledBack status and repeats nothing harmful.

The webhook calls it concurrently for different ModelDeployments; calls that need the same
namespace's Canaries at the same time share one LIST (nothing is cached once it has answered,
so a later alert always reads afresh). A decision on a slightly older list is safe: the
rollback re-reads the canary before it writes.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from levibot_operator import constants as c
from levibot_operator.adapters import kube
from levibot_operator.core.alerts.dispatch import find_alerted_canaries, find_live_canaries
from levibot_operator.core.alerts.payload import AlertTarget
from levibot_operator.core.canary.decision import FiringAlert
from levibot_operator.core.canary.market_drift import is_drift_alert
from levibot_operator.shell.canary import CanaryReconciler

log = logging.getLogger(__name__)


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
        """Act on one firing alert; always settled (a drift alert's state is read again from
        Prometheus by every canary tick and by the ModelDeployment's drift loop)."""
        self.canaries.metrics.alerts.inc()
        api, ns = self.canaries.api, alert.namespace
        bodies = await self.reads.fetch(
            ns, lambda: kube.fetch_list(api, c.API_VERSION, c.CANARY_KIND, ns, {})
        )
        if is_drift_alert(alert.alertname):
            names = [
                b["metadata"]["name"] for b in find_live_canaries(bodies, alert.modeldeployment)
            ]
        else:
            names = find_alerted_canaries(bodies, alert)
        firing = FiringAlert(alert.alertname, alert.version, alert.value)
        for name in names:
            await self.canaries.roll_back_on_alert(ns, name, firing)
        return True

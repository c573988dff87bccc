"""The reconcile shell of one Canary: parse -> observe -> decide -> status -> writes -> Events.

Layer: shell. Decisions are ``core.canary.machine.decide_canary``; the writes are
planned by ``core.canary.planning``. The status is written first, guarded by the resourceVersion the
canary was read at, so two writers (this replica's periodic decision and any replica's alert
rollback) can never overwrite a newer decision: the later write fails with a conflict and is
decided again from a fresh read. Every write after the status is idempotent.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from kubernetes_asyncio.client import ApiClient
from kubernetes_asyncio.client.exceptions import ApiException

from levibot_operator import constants as c
from levibot_operator.adapters import kube
from levibot_operator.adapters.metrics import OperatorMetrics
from levibot_operator.adapters.notifier import Notifier
from levibot_operator.adapters.prometheus import PrometheusClient
from levibot_operator.core.canary.conditions import plan_conditions
from levibot_operator.core.canary.decision import CanaryDecision, CanaryState, FiringAlert
from levibot_operator.core.canary.machine import decide_canary, decide_deletion
from levibot_operator.core.canary.planning import (
    CanaryIntent,
    PromoteVersion,
    assess_candidate,
    build_promoted_status,
    is_promotable,
    plan_canary_writes,
)
from levibot_operator.core.canary.spec import CanarySpec, parse_canary_spec
from levibot_operator.core.canary.status import (
    SETTLE_POLL_SECONDS,
    TERMINAL,
    CanaryStatus,
    Phase,
    build_canary_status,
    is_traffic_settled,
    parse_canary_status,
)
from levibot_operator.core.canary.transitions import move_status
from levibot_operator.core.fields import SpecError
from levibot_operator.core.intents import (
    EVENT_WARNING,
    ApplyObject,
    CreateJob,
    EventIntent,
    SetRegistryStatus,
)
from levibot_operator.core.modeldeployment.spec import ModelDeployment, parse_modeldeployment
from levibot_operator.core.modeldeployment.status import (
    MDStatus,
    build_status_json,
    parse_md_status,
)
from levibot_operator.errors import InvalidSpecError
from levibot_operator.settings import OperatorSettings
from levibot_operator.shell.canary_judgement import ShadowPairs
from levibot_operator.shell.canary_observation import (
    ObserveInput,
    fetch_deployment,
    fetch_observed,
)
from levibot_operator.shell.failures import describe_refusal, describe_write, is_refusal
from levibot_operator.shell.locks import ObjectLocks
from levibot_operator.shell.notifications import announce_written
from levibot_operator.shell.writes import patch_registry, post_event

log = logging.getLogger(__name__)
Body = Mapping[str, Any]
CONFLICT_RETRIES = 3


@dataclass
class CanaryReconciler:
    """Everything the canary shell needs, passed in; ``active`` maps live canaries to targets.

    ``md_locks`` are the ModelDeployment shell's locks; ``on_promoted`` asks that shell to
    converge a target after a promotion (wired in ``__main__``: the shells never import each
    other).
    """

    api: ApiClient
    settings: OperatorSettings
    clock: Callable[[], datetime]
    md_locks: ObjectLocks
    on_promoted: Callable[[str, str], Awaitable[object]]
    prometheus: PrometheusClient | None
    metrics: OperatorMetrics
    notifier: Notifier | None = None  # the optional outgoing webhook (never awaited)
    locks: dict[tuple[str, str], asyncio.Lock] = field(default_factory=dict)
    active: dict[tuple[str, str], str] = field(default_factory=dict)
    shadow: ShadowPairs = field(default_factory=ShadowPairs)

    def lock_for(self, namespace: str, name: str) -> asyncio.Lock:
        return self.locks.setdefault((namespace, name), asyncio.Lock())

    async def reconcile_named(self, namespace: str, name: str) -> float | None:
        """One decision; the seconds until the next one, or None once the canary is finished."""
        async with self.lock_for(namespace, name):
            body = await kube.fetch_object(self.api, c.API_VERSION, c.CANARY_KIND, namespace, name)
            if body is None or body["metadata"].get("deletionTimestamp"):
                self.active.pop((namespace, name), None)
                return None
            return await self._reconcile(body, None)

    async def finalize_named(self, namespace: str, name: str) -> None:
        """The deletion finalizer: a live canary gives its traffic back to the stable version,
        its candidate is scaled to zero and rejected; only then may the object go."""
        async with self.lock_for(namespace, name):
            self.active.pop((namespace, name), None)
            body = await kube.fetch_object(self.api, c.API_VERSION, c.CANARY_KIND, namespace, name)
            status = parse_canary_status((body or {}).get("status"))
            decision = decide_deletion(status, self.clock())
            if body is None or decision is None:
                return
            try:
                spec = parse_canary_spec(body.get("spec") or {})
            except SpecError:
                return  # an invalid spec never served anything
            md = _parse_target(
                await kube.fetch_object(
                    self.api, c.API_VERSION, c.MODELDEPLOYMENT_KIND, namespace, spec.target
                )
            )
            if md is None:
                return  # the target is gone, and its objects with it
            seen = assess_candidate(await fetch_deployment(self.api, md, status.candidate_version))
            writes = plan_canary_writes(
                md, name, decision, spec=spec, old=status, seen=seen,
                settings=self.settings.build_core_settings(),
            )  # fmt: skip
            await self._apply_all(md, writes)
            await self.shadow.keep(self.api, self.settings, md, name, decision.status)
            await self._announce(body, spec, status, decision)

    async def roll_back_on_alert(self, namespace: str, name: str, alert: FiringAlert) -> None:
        """The alert path: no lock (the status write is guarded), retried on a conflict."""
        for attempt in range(CONFLICT_RETRIES):
            body = await kube.fetch_object(self.api, c.API_VERSION, c.CANARY_KIND, namespace, name)
            if body is None:
                return
            try:
                await self._reconcile(body, alert)
                return
            except kube.ConflictError:
                log.info("canary %s/%s changed; deciding again (%d)", namespace, name, attempt)
        raise kube.ConflictError(f"canary {namespace}/{name} kept changing")

    async def _reconcile(self, body: Body, alert: FiringAlert | None) -> float | None:
        meta = body["metadata"]
        status = parse_canary_status(body.get("status"))
        try:
            spec = parse_canary_spec(body.get("spec") or {})
        except SpecError as error:
            await self._write_invalid(body, status, error)
            raise InvalidSpecError(str(error)) from error
        md_body = await kube.fetch_object(
            self.api, c.API_VERSION, c.MODELDEPLOYMENT_KIND, meta["namespace"], spec.target
        )
        md = _parse_target(md_body)
        md_status = parse_md_status((md_body or {}).get("status"))
        given = ObserveInput(body, spec, status, md, md_status, alert, self.clock())
        seen = await fetch_observed(self.api, self.prometheus, self.settings, given)
        decision = decide_canary(CanaryState(spec, status), seen.observation, given.now)
        written = await self._write_status(body, status, decision.status)
        if md is not None:
            writes = plan_canary_writes(
                md, meta["name"], decision, spec=spec, old=status, seen=seen.candidate,
                settings=self.settings.build_core_settings(),
            )  # fmt: skip
            refused = await self._apply_all(md, writes)
            await self._report_refused(written, decision.status, refused)
            await self.shadow.keep(self.api, self.settings, md, meta["name"], decision.status)
        await self._announce(body, spec, status, decision)
        return self._next_delay(meta, spec, decision)

    def _next_delay(self, meta: Body, spec: CanarySpec, decision: CanaryDecision) -> float | None:
        key = (meta["namespace"], meta["name"])
        if decision.status.phase in TERMINAL:
            self.active.pop(key, None)
            # Look again until the traffic has settled: the achieved weight is recomputed from
            # the observed replicas each tick instead of frozen (issue 12, item 5).
            return None if is_traffic_settled(decision.status) else SETTLE_POLL_SECONDS
        self.active[key] = spec.target
        resync = self.settings.canary_resync_seconds
        wait = decision.requeue_after
        return resync if wait is None else min(max(wait.total_seconds(), 0.0), resync)

    async def _write_status(self, body: Body, old: CanaryStatus, new: CanaryStatus) -> Body:
        """Status first (the memory), guarded by the resourceVersion it was read at; the body as
        written (for a later guarded write in the same tick)."""
        generation, seen = int(body["metadata"].get("generation", 0)), body.get("status") or {}
        conditions = plan_conditions(new, seen.get("conditions") or (), self.clock(), generation)
        new_json = {**build_canary_status(new), "observedGeneration": generation,
                    "conditions": conditions}  # fmt: skip
        old_json = {**build_canary_status(old), "conditions": seen.get("conditions"),
                    "observedGeneration": seen.get("observedGeneration")}  # fmt: skip
        if new_json != old_json:
            written = await kube.patch_canary_status(self.api, body, new_json)
            announce_written(self.metrics, self.notifier, body, old, new, now=self.clock())
            return written
        return body

    async def _report_refused(self, body: Body, status: CanaryStatus, refused: list[str]) -> None:
        """Writes the API server refused: reason WriteRefused with a message naming the fields
        (phase and memory kept) and one Event; once all are accepted, the last transition's
        reason and message come back."""
        if refused:
            new = replace(status, reason=c.REASON_WRITE_REFUSED, message="; ".join(refused)[:1000])
        elif status.reason == c.REASON_WRITE_REFUSED and status.history:
            new = replace(status, reason=status.history[-1].reason,
                          message=status.history[-1].message)  # fmt: skip
        else:
            return
        if new != status:
            await self._write_status(body, status, new)
            if refused:
                await self._post_event(
                    body, EventIntent(c.EVENT_WRITE_REFUSED, new.message, EVENT_WARNING)
                )

    async def _write_invalid(self, body: Body, status: CanaryStatus, error: SpecError) -> None:
        """An invalid spec: phase Failed, the message names the field; an Event once."""
        message = f"invalid spec: {error}"
        if status.phase is Phase.FAILED and status.message == message:
            return
        failed = move_status(status, self.clock(), Phase.FAILED, c.REASON_INVALID_SPEC, message)
        await self._write_status(body, status, failed)
        await self._post_event(body, EventIntent(c.EVENT_INVALID_SPEC, message, EVENT_WARNING))

    async def _apply_all(self, md: ModelDeployment, writes: tuple[CanaryIntent, ...]) -> list[str]:
        """Every write; one the API server refuses (4xx) is described and the others go on."""
        refused = []
        for intent in writes:
            try:
                await self._apply_one(md, intent)
            except ApiException as exc:
                if not is_refusal(exc):
                    raise
                refused.append(describe_refusal(exc, *describe_write(intent)))
                log.warning("canary write refused: %s", refused[-1])
        return refused

    async def _apply_one(self, md: ModelDeployment, intent: CanaryIntent) -> None:
        if isinstance(intent, ApplyObject):
            await kube.apply_object(self.api, intent.manifest)
        elif isinstance(intent, CreateJob):
            await kube.apply_created(self.api, intent.manifest)
        elif isinstance(intent, SetRegistryStatus):
            await patch_registry(self.api, self.settings, md, intent)
        elif isinstance(intent, PromoteVersion):
            await self.promote(md, intent)

    async def promote(self, md: ModelDeployment, intent: PromoteVersion) -> None:
        """Stable := candidate on the target (under its lock), then let it converge."""
        ns, name = md.namespace, md.name
        async with self.md_locks.lock_for(ns, name):
            body = await kube.fetch_object(
                self.api, c.API_VERSION, c.MODELDEPLOYMENT_KIND, ns, name
            )
            old: MDStatus = parse_md_status((body or {}).get("status"))
            if body is None or not is_promotable(old, intent):
                return
            new = build_promoted_status(md, old, intent.version, self.clock())
            await kube.patch_md_status(self.api, ns, name, build_status_json(new))
        log.info("%s/%s: %s promoted over %s", ns, name, intent.version, intent.replaced)
        try:
            await self.on_promoted(ns, name)
        except Exception as exc:  # the MD's own loop retries; promotion is already recorded
            log.warning("reconcile of %s/%s after promotion failed: %s", ns, name, exc)

    async def _announce(
        self, body: Body, spec: CanarySpec, old: CanaryStatus, decision: CanaryDecision
    ) -> None:
        meta, new = body["metadata"], decision.status
        self.metrics.observe_canary(meta["namespace"], meta["name"], spec.target, new)
        if new.phase is Phase.ROLLED_BACK and old.phase is not Phase.ROLLED_BACK:
            self.metrics.rollbacks.labels(new.reason).inc()
        for event in decision.events:
            await self._post_event(body, event)

    async def _post_event(self, body: Body, event: EventIntent) -> None:
        await post_event(self.api, body, event, self.clock())


def _parse_target(body: Body | None) -> ModelDeployment | None:
    """The target ModelDeployment, or None when absent or invalid (the canary then waits)."""
    if body is None:
        return None
    try:
        return parse_modeldeployment(body)
    except SpecError:
        return None

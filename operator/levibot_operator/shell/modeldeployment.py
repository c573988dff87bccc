"""The reconcile shell of one ModelDeployment: observe -> decide -> apply -> write status.

Layer: shell. All decisions are in ``core.modeldeployment.planning``; this module only gathers the
snapshot, writes the status first (the operator's memory), then applies the idempotent intents
and posts the Events. One lock per ModelDeployment serialises the triggers (create/update/resume,
Job and Deployment events, the resync loop).
"""

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kubernetes_asyncio.client import ApiClient
from kubernetes_asyncio.client.exceptions import ApiException

from levibot_operator import constants as c
from levibot_operator.adapters import kube, registry
from levibot_operator.adapters.metrics import OperatorMetrics
from levibot_operator.adapters.prometheus import PrometheusClient
from levibot_operator.core.alerts.dispatch import find_live_canaries
from levibot_operator.core.canary.template import parse_checked_modeldeployment
from levibot_operator.core.fields import SpecError
from levibot_operator.core.intents import (
    ApplyObject,
    CreateCanary,
    CreateJob,
    DeleteDeployment,
    DeleteObject,
    Intent,
    SetRegistryStatus,
)
from levibot_operator.core.modeldeployment.observation import (
    REGISTRY_UNAVAILABLE,
    Snapshot,
    parse_deployment,
)
from levibot_operator.core.modeldeployment.planning import (
    Plan,
    decide_invalid_spec,
    decide_modeldeployment,
    decide_reconcile_error,
)
from levibot_operator.core.modeldeployment.spec import ModelDeployment
from levibot_operator.core.modeldeployment.status import (
    RUNNING,
    MDStatus,
    build_status_json,
    parse_md_status,
)
from levibot_operator.core.modeldeployment.training import decide_training_need
from levibot_operator.core.modeldeployment.undo import (
    UndoDecision,
    decide_undo_now,
    parse_undo_request,
)
from levibot_operator.errors import InvalidSpecError
from levibot_operator.settings import OperatorSettings
from levibot_operator.shell.failures import (
    describe_refusal,
    describe_unexpected,
    describe_write,
    is_refusal,
)
from levibot_operator.shell.locks import ObjectLocks
from levibot_operator.shell.modeldeployment_drift import fetch_drift_seen
from levibot_operator.shell.modeldeployment_observation import (
    fetch_freshness,
    fetch_highest_job_version,
    fetch_job,
    fetch_scaling_found,
)
from levibot_operator.shell.modeldeployment_trading import fetch_trading
from levibot_operator.shell.writes import patch_registry, post_event

log = logging.getLogger(__name__)
Body = Mapping[str, Any]
# Retried by the caller as they are (kopf's TemporaryError, the resync loop's backoff).
TRANSIENT: tuple[type[BaseException], ...] = (
    InvalidSpecError,
    registry.RegistryUnavailableError,
    kube.ConflictError,
    ApiException,  # a read, or the status write itself: nothing to report it in
    OSError,
)


@dataclass
class Reconciler:
    """Everything the shell needs, passed in: API client, settings, clock."""

    api: ApiClient
    settings: OperatorSettings
    clock: Callable[[], datetime]
    prometheus: PrometheusClient | None = None
    locks: ObjectLocks = field(default_factory=ObjectLocks)
    metrics: OperatorMetrics | None = None  # paper trading and breakers per ModelDeployment

    def lock_for(self, namespace: str, name: str) -> asyncio.Lock:
        """The lock serialising every reconcile of one ModelDeployment."""
        return self.locks.lock_for(namespace, name)

    async def reconcile_named(self, namespace: str, name: str) -> float | None:
        """Fetch the ModelDeployment and reconcile it; None when it is gone."""
        async with self.lock_for(namespace, name):
            body = await kube.fetch_object(
                self.api, c.API_VERSION, c.MODELDEPLOYMENT_KIND, namespace, name
            )
            if body is None or body["metadata"].get("deletionTimestamp"):
                return None
            return await self._reconcile(body)

    async def reconcile(self, body: Body) -> float | None:
        """Reconcile from a (possibly stale) body: re-read it under the lock."""
        meta = body["metadata"]
        return await self.reconcile_named(meta["namespace"], meta["name"])

    async def _reconcile(self, body: Body) -> float | None:
        """Any error but a transient one is logged with the object's name and reported in its
        status (Ready=False, ReconcileError) before it is raised again to be retried."""
        try:
            return await self._reconcile_parsed(body)
        except TRANSIENT:
            raise
        except Exception as exc:
            meta = body["metadata"]
            log.exception("reconcile %s/%s failed", meta.get("namespace"), meta.get("name"))
            await self.report_failure(body, (c.REASON_RECONCILE_ERROR, describe_unexpected(exc)))
            raise

    async def report_failure(self, body: Body, failure: tuple[str, str]) -> None:
        """Best effort: the failure in the status and an Event (never masks the error)."""
        try:
            old = parse_md_status(body.get("status"))
            generation = int(body["metadata"].get("generation", 0))
            plan = decide_reconcile_error(old, old, failure, generation, self.clock())
            await self.apply_plan(body, old, plan)
        except Exception as exc:  # the original error is what the caller must see
            log.warning("failure of %s not reported in status: %s", body["metadata"], exc)

    async def _reconcile_parsed(self, body: Body) -> float | None:
        status = parse_md_status(body.get("status"))
        try:
            md = parse_checked_modeldeployment(body)
        except SpecError as error:
            generation = int(body["metadata"].get("generation", 0))
            await self.apply_plan(
                body, status, decide_invalid_spec(status, error, generation, self.clock())
            )
            raise InvalidSpecError(str(error)) from error
        # Every registered version, whoever trained it, is in the history (issue 12, 6).
        known = await registry.fetch_version_history(self.api, md, status, self.settings)
        undo = await self.decide_undo(body, md, known)
        snap = await fetch_trading(
            self.api, self.settings, await self.fetch_snapshot(md, undo.status), body
        )
        plan = decide_modeldeployment(snap, self.settings.build_core_settings())
        refused = await self.apply_plan(body, status, plan, md)
        if self.metrics is not None:
            self.metrics.observe_paper(
                md.namespace, md.name, plan.status.paper_trading.get("results") or []
            )
            self.metrics.observe_breaker(md.namespace, md.name, plan.status.circuit_breaker)
        await self.apply_undo(body, md, undo)
        if not refused:
            return plan.requeue_after
        failure = (c.REASON_WRITE_REFUSED, "; ".join(refused))
        now = self.clock()
        await self.apply_plan(
            body,
            plan.status,
            decide_reconcile_error(status, plan.status, failure, md.generation, now),
        )
        return self.settings.retry_delay_seconds

    async def decide_undo(self, body: Body, md: ModelDeployment, status: MDStatus) -> UndoDecision:
        """``levibot.io/undo`` + ``undo-now`` (core.modeldeployment.undo); the live canaries
        are read only when an undo is to be acted on."""
        request = parse_undo_request(body["metadata"].get("annotations"))
        live: tuple[str, ...] = ()
        if request is not None and request.now and request.version != status.handled_undo:
            canaries = await kube.fetch_list(
                self.api, c.API_VERSION, c.CANARY_KIND, md.namespace, {}
            )
            live = tuple(b["metadata"]["name"] for b in find_live_canaries(canaries, md.name))
        return decide_undo_now(md, status, request, live)

    async def apply_undo(self, body: Body, md: ModelDeployment, undo: UndoDecision) -> None:
        """The restored version's registry status and the undo's Event (status went first)."""
        for intent in undo.registry:
            await patch_registry(self.api, self.settings, md, intent)
        for event in undo.events:
            await post_event(self.api, body, event, self.clock())

    async def fetch_snapshot(self, md: ModelDeployment, status: MDStatus) -> Snapshot:
        """Observe the Job in flight, the registry, the predictors, freshness, canaries."""
        now = self.clock()
        job, found = None, None
        training = status.training
        if training is not None and training.state == RUNNING:
            job = await fetch_job(self.api, md.namespace, training.job_name)
            if job is not None and job.succeeded:
                found = await registry.fetch_registered(
                    self.api, md, training.version, self.settings
                )
        highest, error = await self.fetch_highest(md, status, now)
        if found is not None and found.state == REGISTRY_UNAVAILABLE:
            error = found.message
        selector = {c.LABEL_MODELDEPLOYMENT: md.name, c.LABEL_COMPONENT: c.COMPONENT_PREDICTOR}
        bodies = await kube.fetch_list(self.api, "apps/v1", "Deployment", md.namespace, selector)
        live, names = await self.fetch_target_canaries(md)
        return Snapshot(
            md,
            status,
            now,
            job,
            found,
            tuple(parse_deployment(b) for b in bodies),
            highest,
            registry_error=error,
            registry_checked=found is not None or decide_training_need(md, status, now) is not None,
            freshness=await fetch_freshness(self.prometheus, md),
            canary_active=md.spec.traffic.provider == c.PROVIDER_GATEWAY_API and bool(live),
            live_canaries=live,
            scaling_found=await fetch_scaling_found(self.api, md),
            drift=await fetch_drift_seen(self.prometheus, md),
            canary_names=names,
        )

    async def fetch_highest(
        self, md: ModelDeployment, status: MDStatus, now: datetime
    ) -> tuple[int, str | None]:
        """The highest registered version when a training is due; the registry error if any."""
        if decide_training_need(md, status, now) is None:
            return 0, None
        try:
            highest = await registry.fetch_highest_version(self.api, md, self.settings)
        except registry.RegistryUnavailableError as exc:
            return 0, str(exc)
        return max(highest, await fetch_highest_job_version(self.api, md)), None

    async def fetch_target_canaries(
        self, md: ModelDeployment
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Names of the unfinished Canaries of ``md`` (one rollout at a time; with gatewayAPI,
        a live one owns the HTTPRoute), and of all of them (the drift loop's)."""
        bodies = await kube.fetch_list(self.api, c.API_VERSION, c.CANARY_KIND, md.namespace, {})
        live = tuple(str(b["metadata"]["name"]) for b in find_live_canaries(bodies, md.name))
        mine = [b for b in bodies if (b.get("spec") or {}).get("target") == md.name]
        return live, tuple(str(b["metadata"]["name"]) for b in mine)

    async def apply_plan(
        self, body: Body, old: MDStatus, plan: Plan, md: ModelDeployment | None = None
    ) -> list[str]:
        """Status first (memory), then intents, then Events; the writes the server refused."""
        meta = body["metadata"]
        new_json = build_status_json(plan.status)
        if new_json != build_status_json(old):
            await kube.patch_md_status(self.api, meta["namespace"], meta["name"], new_json)
        refused = [r for intent in plan.intents if (r := await self.try_intent(intent, md))]
        for event in plan.events:
            await post_event(self.api, body, event, self.clock())
        return refused

    async def try_intent(self, intent: Intent, md: ModelDeployment | None) -> str | None:
        """Apply one intent; a write the server refuses (4xx) is described, the others go on."""
        try:
            await self.apply_intent(intent, md)
        except ApiException as exc:
            if not is_refusal(exc):
                raise
            kind, name = describe_write(intent)
            log.warning("%s: %s", md.name if md else "?", describe_refusal(exc, kind, name))
            return describe_refusal(exc, kind, name)
        return None

    async def apply_intent(self, intent: Intent, md: ModelDeployment | None) -> None:
        """One idempotent write."""
        if isinstance(intent, ApplyObject):
            await kube.apply_object(self.api, intent.manifest, intent.field_manager)
        elif isinstance(intent, CreateJob | CreateCanary):
            await kube.apply_created(self.api, intent.manifest)
        elif isinstance(intent, DeleteDeployment) and md is not None:
            await kube.delete_object(self.api, "apps/v1", "Deployment", md.namespace, intent.name)
        elif isinstance(intent, DeleteObject) and md is not None:
            await kube.delete_object(
                self.api, intent.api_version, intent.kind, md.namespace, intent.name
            )
        elif isinstance(intent, SetRegistryStatus) and md is not None:
            await patch_registry(self.api, self.settings, md, intent)

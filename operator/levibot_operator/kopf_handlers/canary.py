"""kopf handlers of Canary: a daemon per canary that decides and waits, plus prompt wake-ups.

Layer: entry (kopf registration).
The daemon loops ``decide → wait(requeue)`` with kopf's ``stopped``
flag (the handler never sleeps; the wait is cancelled when the canary or the operator goes) and
idles in memory once the canary is finished, until a retry makes it live again. Deleting a
live canary runs ``canary_delete`` behind kopf's finalizer: its traffic goes back to stable
before the object is gone. Changes (annotations: promote/abort/resume/retry/restart),
predictor Deployment and trainer Job events, and target updates (kill-switch) decide again at
once.
Errors become kopf's vocabulary: PermanentError for an invalid spec, TemporaryError otherwise.
"""

import logging
from typing import Any

import kopf
from kubernetes_asyncio.client.exceptions import ApiException

from levibot_operator import constants as c
from levibot_operator.adapters import kube
from levibot_operator.adapters.registry import RegistryUnavailableError
from levibot_operator.errors import InvalidSpecError
from levibot_operator.shell.canary import CanaryReconciler
from levibot_operator.shell.logs import bound_object

log = logging.getLogger(__name__)
OWNED = {c.LABEL_MANAGED_BY: c.LABEL_MANAGED_BY_VALUE}
CONFLICT_DELAY = 0.2
IDLE_POLL_SECONDS = 1.0  # how often a finished canary's daemon looks for a retry (in memory)
TRANSIENT = (ApiException, RegistryUnavailableError, kube.ConflictError, OSError)


async def decide_for_kopf(canaries: CanaryReconciler, namespace: str, name: str) -> None:
    """One decision for a change handler, errors translated for kopf."""
    delay = canaries.settings.retry_delay_seconds
    try:
        with bound_object(c.CANARY_KIND, namespace, name):
            await canaries.reconcile_named(namespace, name)
    except InvalidSpecError as exc:
        raise kopf.PermanentError(str(exc)) from exc
    except TRANSIENT as exc:
        canaries.metrics.reconcile_errors.labels(c.CANARY_KIND).inc()
        raise kopf.TemporaryError(f"{type(exc).__name__}: {exc}", delay=delay) from exc


async def finalize_for_kopf(canaries: CanaryReconciler, namespace: str, name: str) -> None:
    """The deletion finalizer; kopf keeps the finalizer and retries until the writes are done."""
    try:
        with bound_object(c.CANARY_KIND, namespace, name):
            await canaries.finalize_named(namespace, name)
    except TRANSIENT as exc:
        canaries.metrics.reconcile_errors.labels(c.CANARY_KIND).inc()
        delay = canaries.settings.retry_delay_seconds
        raise kopf.TemporaryError(f"{type(exc).__name__}: {exc}", delay=delay) from exc


async def tick(canaries: CanaryReconciler, namespace: str, name: str) -> float | None:
    """One daemon decision: the wait before the next, or None when the canary is done."""
    try:
        with bound_object(c.CANARY_KIND, namespace, name):  # every shell line names the canary
            return await canaries.reconcile_named(namespace, name)
    except InvalidSpecError:
        return None
    except kube.ConflictError:  # written meanwhile (kopf's annotations, an alert): decide again
        log.info("canary %s/%s changed while deciding; deciding again", namespace, name)
        return CONFLICT_DELAY
    except Exception as exc:  # the daemon must survive anything transient
        canaries.metrics.reconcile_errors.labels(c.CANARY_KIND).inc()
        log.warning("canary %s/%s: %s: %s", namespace, name, type(exc).__name__, exc)
        return canaries.settings.retry_delay_seconds


async def wake_target(canaries: CanaryReconciler, namespace: str, target: str) -> None:
    """Decide again for every live canary of one ModelDeployment (errors only logged)."""
    live = [key for key, t in list(canaries.active.items()) if t == target]
    for ns, name in live:
        if ns == namespace:
            await tick(canaries, ns, name)


async def idle_until_live(
    canaries: CanaryReconciler, stopped: kopf.DaemonStopped, namespace: str, name: str
) -> None:
    """A finished canary's daemon waits in memory (no API calls) until a retry, decided by the
    update handler, makes it live again; then it ticks on as before."""
    while not stopped and (namespace, name) not in canaries.active:
        await stopped.wait(IDLE_POLL_SECONDS)


def register_canary(registry: kopf.OperatorRegistry, canaries: CanaryReconciler) -> None:
    """Register every Canary handler on ``registry``."""

    @kopf.daemon(c.GROUP, c.VERSION, c.CANARY_PLURAL, registry=registry, cancellation_timeout=5)
    async def canary_daemon(
        stopped: kopf.DaemonStopped, namespace: str | None, name: str, **_: Any
    ) -> None:
        while not stopped and namespace:
            delay = await tick(canaries, namespace, name)
            if delay is None:
                await idle_until_live(canaries, stopped, namespace, name)
                continue
            await stopped.wait(delay)

    # Not optional: kopf puts its finalizer on every Canary, so a deleted live canary first
    # gives its traffic back to the stable version (and the daemon stops before this runs).
    @kopf.on.delete(c.GROUP, c.VERSION, c.CANARY_PLURAL, registry=registry)
    async def canary_delete(namespace: str | None, name: str, **_: Any) -> None:
        if namespace:
            await finalize_for_kopf(canaries, namespace, name)

    @kopf.on.update(c.GROUP, c.VERSION, c.CANARY_PLURAL, registry=registry)
    async def canary_update(namespace: str | None, name: str, **_: Any) -> None:
        if namespace:
            await decide_for_kopf(canaries, namespace, name)

    @kopf.on.event("apps", "v1", "deployments", labels=OWNED, registry=registry)
    async def canary_deployment_event(namespace: str | None, labels: kopf.Labels, **_: Any) -> None:
        target = labels.get(c.LABEL_MODELDEPLOYMENT)
        if namespace and target and labels.get(c.LABEL_TRACK) == c.TRACK_CANARY:
            await wake_target(canaries, namespace, str(target))

    @kopf.on.event("batch", "v1", "jobs", labels={c.LABEL_CANARY: kopf.PRESENT}, registry=registry)
    async def canary_job_event(namespace: str | None, labels: kopf.Labels, **_: Any) -> None:
        name = labels.get(c.LABEL_CANARY)
        if namespace and name:
            await tick(canaries, namespace, str(name))

    @kopf.on.update(c.GROUP, c.VERSION, c.MODELDEPLOYMENT_PLURAL, registry=registry)
    async def canary_target_update(namespace: str | None, name: str, **_: Any) -> None:
        if namespace:
            await wake_target(canaries, namespace, name)

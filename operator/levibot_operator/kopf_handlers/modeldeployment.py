"""kopf handlers of ModelDeployment: create/update/resume, trainer Job and predictor events,
and a resync loop (schedules, retry backoff, safety net).

Layer: entry (kopf registration).
Each handler only translates a trigger into ``Reconciler.reconcile``
and its errors into kopf's vocabulary: TemporaryError(delay) for I/O and for any other error
(with backoff), PermanentError for an invalid spec. One rule for every loop: an error in one
object's reconcile is logged with its namespace/name, reported in its status (by the shell),
retried with backoff, and never ends a loop. Handlers are registered on an explicit registry by
``register_modeldeployment``.
"""

import asyncio
import logging
import time
from typing import Any

import kopf
from kubernetes_asyncio.client.exceptions import ApiException

from levibot_operator import constants as c
from levibot_operator.adapters.kube import fetch_list
from levibot_operator.adapters.registry import RegistryUnavailableError
from levibot_operator.errors import InvalidSpecError
from levibot_operator.shell.failures import Backoff, plan_retry_delay
from levibot_operator.shell.logs import bound_object
from levibot_operator.shell.modeldeployment import Reconciler

log = logging.getLogger(__name__)
OWNED = {c.LABEL_MANAGED_BY: c.LABEL_MANAGED_BY_VALUE}


async def reconcile_for_kopf(reconciler: Reconciler, body: kopf.Body, retry: int = 0) -> None:
    """Reconcile and translate errors for change handlers (kopf retries TemporaryError)."""
    delay = plan_retry_delay(retry + 1, reconciler.settings.retry_delay_seconds)
    meta = body.get("metadata") or {}
    try:
        with bound_object(c.MODELDEPLOYMENT_KIND, meta.get("namespace", ""), meta.get("name", "")):
            await reconciler.reconcile(body)
    except InvalidSpecError as exc:
        raise kopf.PermanentError(str(exc)) from exc
    except RegistryUnavailableError as exc:
        raise kopf.TemporaryError(f"registry unavailable: {exc}", delay=delay) from exc
    except ApiException as exc:
        raise kopf.TemporaryError(f"API error {exc.status}: {exc.reason}", delay=delay) from exc
    except Exception as exc:  # already logged and in the status; retried with backoff
        raise kopf.TemporaryError(f"{type(exc).__name__}: {exc}", delay=delay) from exc


async def reconcile_quietly(reconciler: Reconciler, namespace: str, name: str) -> bool:
    """Reconcile from an event or the resync loop; False when it failed (logged, never raised)."""
    try:
        with bound_object(c.MODELDEPLOYMENT_KIND, namespace, name):
            await reconciler.reconcile_named(namespace, name)
    except InvalidSpecError:
        return True  # permanent and in the status: nothing to retry
    except ApiException as exc:
        if exc.status == 404:  # the ModelDeployment was deleted meanwhile
            return True
        log.warning("reconcile %s/%s deferred: API error %s", namespace, name, exc.status)
        return False
    except (RegistryUnavailableError, OSError) as exc:
        log.warning("reconcile %s/%s deferred: %s", namespace, name, exc)
        return False
    except Exception as exc:  # a bug in one object's reconcile must not end the loop
        log.error("reconcile %s/%s failed: %s: %s", namespace, name, type(exc).__name__, exc)
        return False
    return True


async def resync_once(reconciler: Reconciler, namespaces: list[str], backoff: Backoff) -> None:
    """Reconcile every ModelDeployment that is not backing off after a failure."""
    try:
        keys = await list_modeldeployments(reconciler, namespaces)
    except Exception as exc:  # the next round lists again
        log.warning("resync: listing ModelDeployments failed: %s: %s", type(exc).__name__, exc)
        return
    for key in keys:
        if backoff.is_due(key, time.monotonic()):
            ok = await reconcile_quietly(reconciler, *key)
            backoff.record(key, ok, time.monotonic())


async def resync_forever(reconciler: Reconciler, namespaces: list[str]) -> None:
    """Every resync interval, reconcile every ModelDeployment (schedules, backoff, drift)."""
    backoff = Backoff(base=reconciler.settings.retry_delay_seconds)
    while True:
        await asyncio.sleep(reconciler.settings.resync_seconds)
        await resync_once(reconciler, namespaces, backoff)


async def list_modeldeployments(
    reconciler: Reconciler, namespaces: list[str]
) -> list[tuple[str, str]]:
    """(namespace, name) of every ModelDeployment watched."""
    api, kind = reconciler.api, c.MODELDEPLOYMENT_KIND
    if not namespaces:
        result = await api.call_api(
            f"/apis/{c.API_VERSION}/{c.MODELDEPLOYMENT_PLURAL}",
            "GET",
            response_types_map={200: "object"},
            auth_settings=["BearerToken"],
            _return_http_data_only=True,
        )
        items = result.get("items") or []
    else:
        items = [i for ns in namespaces for i in await fetch_list(api, c.API_VERSION, kind, ns, {})]
    return [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in items]


def owner_of(labels: dict[str, Any] | kopf.Labels) -> str | None:
    """The ModelDeployment a trainer Job or predictor Deployment belongs to."""
    name = labels.get(c.LABEL_MODELDEPLOYMENT)
    return str(name) if name else None


def register_modeldeployment(registry: kopf.OperatorRegistry, reconciler: Reconciler) -> None:
    """Register every ModelDeployment handler on ``registry``."""

    @kopf.on.login(registry=registry)
    def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
        return kopf.login_with_service_account(**kwargs) or kopf.login_with_kubeconfig(**kwargs)

    @kopf.on.resume(c.GROUP, c.VERSION, c.MODELDEPLOYMENT_PLURAL, registry=registry)
    async def modeldeployment_resume(body: kopf.Body, retry: int, **_: Any) -> None:
        await reconcile_for_kopf(reconciler, body, retry)

    @kopf.on.create(c.GROUP, c.VERSION, c.MODELDEPLOYMENT_PLURAL, registry=registry)
    async def modeldeployment_create(body: kopf.Body, retry: int, **_: Any) -> None:
        await reconcile_for_kopf(reconciler, body, retry)

    @kopf.on.update(c.GROUP, c.VERSION, c.MODELDEPLOYMENT_PLURAL, registry=registry)
    async def modeldeployment_update(body: kopf.Body, retry: int, **_: Any) -> None:
        await reconcile_for_kopf(reconciler, body, retry)

    @kopf.on.event("batch", "v1", "jobs", labels=OWNED, registry=registry)
    async def job_event(namespace: str | None, labels: kopf.Labels, **_: Any) -> None:
        owner = owner_of(labels)
        if owner and namespace and labels.get(c.LABEL_COMPONENT) == c.COMPONENT_TRAINER:
            await reconcile_quietly(reconciler, namespace, owner)

    @kopf.on.event("apps", "v1", "deployments", labels=OWNED, registry=registry)
    async def deployment_event(namespace: str | None, labels: kopf.Labels, **_: Any) -> None:
        owner = owner_of(labels)
        if owner and namespace and labels.get(c.LABEL_COMPONENT) == c.COMPONENT_PREDICTOR:
            await reconcile_quietly(reconciler, namespace, owner)

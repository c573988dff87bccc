"""The best-effort writes both reconcile shells make: Events and the registry's version status.

Layer: shell. Neither may fail a reconcile: an Event is advisory, and the registry status is
advisory for the operator (its status is the memory). A lost one is logged and forgotten.
"""

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from kubernetes_asyncio.client import ApiClient

from levibot_operator.adapters import kube, registry
from levibot_operator.core.intents import EventIntent, SetRegistryStatus
from levibot_operator.core.modeldeployment.spec import ModelDeployment
from levibot_operator.settings import OperatorSettings

log = logging.getLogger(__name__)


async def post_event(
    api: ApiClient, body: Mapping[str, Any], event: EventIntent, now: datetime
) -> None:
    """Best effort: ``event`` on the object ``body``."""
    built = kube.build_event(body, event.reason, event.message, event.type, now)
    try:
        await kube.apply_event(api, built)
    except Exception as exc:  # Events are advisory
        log.warning("event %s not posted: %s", event.reason, exc)


async def patch_registry(
    api: ApiClient, settings: OperatorSettings, md: ModelDeployment, intent: SetRegistryStatus
) -> None:
    """Best effort: the version's status in the registry."""
    try:
        await registry.patch_version_status(
            api, md, intent.version, status=intent.status, reason=intent.reason, settings=settings
        )
    except registry.RegistryUnavailableError as exc:
        log.warning("registry status of %s %s not set: %s", md.name, intent.version, exc)

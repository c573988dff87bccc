"""Entry point of the operator process: ``python -m levibot_operator``.

Layer: process shell. Builds the settings, the Kubernetes client and the kopf registry, then
runs kopf, behind a coordination.k8s.io Lease unless standalone, so that with two replicas only
the leader acts and the other takes over when the leader dies.
"""

import asyncio
import logging
import os
import socket
from datetime import UTC, datetime
from typing import Any

import kopf
from kubernetes_asyncio import config as kube_config
from kubernetes_asyncio.client import ApiClient
from kubernetes_asyncio.leaderelection.electionconfig import Config as ElectionConfig
from kubernetes_asyncio.leaderelection.leaderelection import LeaderElection
from kubernetes_asyncio.leaderelection.resourcelock.leaselock import LeaseLock

from levibot_operator import constants as c
from levibot_operator.handlers.modeldeployment import register_modeldeployment, resync_forever
from levibot_operator.handlers.reconcile import Reconciler
from levibot_operator.settings import OperatorSettings

log = logging.getLogger("levibot_operator")


def build_kopf_settings(settings: OperatorSettings) -> kopf.OperatorSettings:
    """kopf settings: our annotations for progress, no status writes of its own, no peering."""
    kset = kopf.OperatorSettings()
    kset.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=c.ANNOTATION_PREFIX)
    kset.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=c.ANNOTATION_PREFIX, key="last-handled-configuration"
    )
    kset.peering.standalone = True  # HA is the Lease below, not kopf peering CRDs
    kset.posting.level = logging.WARNING
    kset.watching.server_timeout = 300
    kset.watching.client_timeout = 330
    kset.networking.request_timeout = 30
    kset.batching.error_delays = (1, 2, 5, 10, 30)
    del settings
    return kset


async def load_api_client() -> ApiClient:
    """In-cluster config when in a pod, else the kubeconfig ($KUBECONFIG)."""
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        kube_config.load_incluster_config()  # type: ignore[no-untyped-call]
    else:
        await kube_config.load_kube_config()
    return ApiClient()


def utc_now() -> datetime:
    """The clock passed to the reconciler."""
    return datetime.now(UTC)


async def run_operator(settings: OperatorSettings, api: ApiClient) -> None:
    """Run kopf with our handlers (and the resync loop) until cancelled."""
    registry = kopf.OperatorRegistry()
    reconciler = Reconciler(api=api, settings=settings, clock=utc_now)
    register_modeldeployment(registry, reconciler)
    resync = asyncio.create_task(resync_forever(reconciler, settings.namespaces))
    try:
        await kopf.operator(
            registry=registry,
            settings=build_kopf_settings(settings),
            clusterwide=not settings.namespaces,
            namespaces=settings.namespaces,
            standalone=True,
        )
    finally:
        resync.cancel()


def build_identity(settings: OperatorSettings) -> str:
    """This replica's leader-election identity."""
    return settings.identity or f"{socket.gethostname()}-{os.getpid()}"


async def run_with_lease(settings: OperatorSettings, api: ApiClient) -> None:
    """Only the Lease holder runs the operator; losing the Lease (or kopf stopping) ends it."""
    lock = LeaseLock(settings.lease_name, settings.lease_namespace, build_identity(settings), api)
    finished = asyncio.Event()

    async def lead() -> None:
        try:
            await run_operator(settings, api)
        finally:
            finished.set()

    async def on_lost() -> None:
        log.error("leader lease lost; exiting so a fresh replica can take over")
        finished.set()

    election = ElectionConfig(
        lock=lock,
        lease_duration=settings.lease_duration_seconds,
        renew_deadline=settings.lease_duration_seconds * 2 / 3,
        retry_period=settings.lease_renew_seconds,
        onstarted_leading=lead,
        onstopped_leading=on_lost,
    )
    election_task = asyncio.create_task(LeaderElection(election).run())
    election_task.add_done_callback(lambda _: finished.set())
    await finished.wait()
    if election_task.done() and not election_task.cancelled():
        election_task.result()  # re-raise a crash of the election itself
    election_task.cancel()


async def amain(settings: OperatorSettings) -> None:
    """Async entry: client, then lease or standalone."""
    api = await load_api_client()
    async with api:
        if settings.standalone:
            await run_operator(settings, api)
        else:
            await run_with_lease(settings, api)


def main(argv: Any = None) -> None:
    """Console entry point."""
    del argv
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = OperatorSettings()
    asyncio.run(amain(settings))


if __name__ == "__main__":
    main()

"""Entry point of the operator process: ``python -m levibot_operator``.

Layer: process shell. Builds the settings, the Kubernetes client, the Prometheus client, the
metrics registry and the kopf registry, then runs kopf, behind a coordination.k8s.io Lease
unless standalone, so that with two replicas only the leader acts and the other takes over
when the leader dies. The alert webhook (with ``/healthz``) and ``/metrics`` (with
``/healthz``) are served by EVERY replica: a follower that receives an alert rolls the canary
back itself (see ``handlers.alerts``).
"""

import asyncio
import logging
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import kopf
from aiohttp import web
from kubernetes_asyncio import config as kube_config
from kubernetes_asyncio.client import ApiClient
from kubernetes_asyncio.leaderelection.electionconfig import Config as ElectionConfig
from kubernetes_asyncio.leaderelection.leaderelection import LeaderElection
from kubernetes_asyncio.leaderelection.resourcelock.leaselock import LeaseLock
from prometheus_client import CollectorRegistry

from levibot_operator import constants as c
from levibot_operator.adapters.metrics import OperatorMetrics
from levibot_operator.adapters.notifier import Notifier, NotifierConfig
from levibot_operator.adapters.prometheus import PrometheusClient
from levibot_operator.kopf_handlers.canary import register_canary
from levibot_operator.kopf_handlers.modeldeployment import register_modeldeployment, resync_forever
from levibot_operator.servers.metrics import build_metrics_app
from levibot_operator.servers.webhook import (
    WebhookConfig,
    build_unconfigured_app,
    build_webhook_app,
)
from levibot_operator.settings import OperatorSettings
from levibot_operator.shell.alerts import AlertHandler
from levibot_operator.shell.canary import CanaryReconciler
from levibot_operator.shell.logs import configure_logging
from levibot_operator.shell.modeldeployment import Reconciler

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


@dataclass(frozen=True)
class Shells:
    """The two reconcile shells, built once and wired together here."""

    modeldeployments: Reconciler
    canaries: CanaryReconciler


def build_shells(
    settings: OperatorSettings,
    api: ApiClient,
    prometheus: PrometheusClient,
    notifier: Notifier | None = None,
) -> Shells:
    """The shells; a promotion asks the ModelDeployment shell to converge, under its lock."""
    metrics = OperatorMetrics(CollectorRegistry())
    reconciler = Reconciler(
        api=api, settings=settings, clock=utc_now, prometheus=prometheus, metrics=metrics
    )
    canaries = CanaryReconciler(
        api=api,
        settings=settings,
        clock=utc_now,
        md_locks=reconciler.locks,
        on_promoted=reconciler.reconcile_named,
        prometheus=prometheus,
        metrics=metrics,
        notifier=notifier,
    )
    return Shells(reconciler, canaries)


async def run_operator(settings: OperatorSettings, api: ApiClient, shells: Shells) -> None:
    """Run kopf with our handlers (and the resync loop) until cancelled."""
    del api  # the shells hold the client
    registry = kopf.OperatorRegistry()
    reconciler = shells.modeldeployments
    register_modeldeployment(registry, reconciler)
    register_canary(registry, shells.canaries)
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


async def run_with_lease(settings: OperatorSettings, api: ApiClient, shells: Shells) -> None:
    """Only the Lease holder runs the operator; losing the Lease (or kopf stopping) ends it."""
    lock = LeaseLock(settings.lease_name, settings.lease_namespace, build_identity(settings), api)
    finished = asyncio.Event()

    async def lead() -> None:
        try:
            await run_operator(settings, api, shells)
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


def build_webhook(settings: OperatorSettings, canaries: CanaryReconciler) -> web.Application:
    """The alert webhook; without a token it refuses every alert (secure by default)."""
    config = WebhookConfig(
        token_file=Path(settings.webhook_token_file),
        path=settings.webhook_path,
        max_body_bytes=settings.webhook_max_body_bytes,
    )
    try:
        return build_webhook_app(config, AlertHandler(canaries))
    except ValueError as exc:
        log.error("alert webhook disabled (every alert refused with 503): %s", exc)
        return build_unconfigured_app(config)


async def start_site(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Serve ``app`` on host:port until the runner is cleaned up."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


async def serve_and_run(settings: OperatorSettings, api: ApiClient, shells: Shells) -> None:
    """Webhook and metrics in every replica; kopf behind the Lease (or standalone)."""
    runners = [
        await start_site(
            build_webhook(settings, shells.canaries), settings.webhook_host, settings.webhook_port
        ),
        await start_site(
            build_metrics_app(shells.canaries.metrics), settings.metrics_host, settings.metrics_port
        ),
    ]
    try:
        if settings.standalone:
            await run_operator(settings, api, shells)
        else:
            await run_with_lease(settings, api, shells)
    finally:
        for runner in runners:
            await runner.cleanup()


def build_notifier(settings: OperatorSettings, session: aiohttp.ClientSession) -> Notifier | None:
    """The outgoing notification webhook, when a URL is set."""
    if not settings.notify_url:
        return None
    config = NotifierConfig(
        url=settings.notify_url,
        token_file=Path(settings.notify_token_file),
        timeout_seconds=settings.notify_timeout_seconds,
        retries=settings.notify_retries,
        backoff_seconds=settings.notify_backoff_seconds,
        queue_size=settings.notify_queue_size,
    )
    return Notifier(session, config)


async def amain(settings: OperatorSettings) -> None:
    """Async entry: clients and shared parts, then serve and run."""
    api = await load_api_client()
    async with api, aiohttp.ClientSession() as session:
        prometheus = PrometheusClient(
            session, settings.prometheus_url, settings.prometheus_timeout_seconds
        )
        notifier = build_notifier(settings, session)
        if notifier is not None:
            notifier.start()
        try:
            await serve_and_run(settings, api, build_shells(settings, api, prometheus, notifier))
        finally:
            if notifier is not None:
                await notifier.stop()


def main(argv: Any = None) -> None:
    """Console entry point."""
    del argv
    settings = OperatorSettings()
    configure_logging(settings.log_format)  # JSON lines unless text is set or on a terminal
    asyncio.run(amain(settings))


if __name__ == "__main__":
    main()

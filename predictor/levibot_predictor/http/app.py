"""HTTP app factory (predictor HTTP layer): ``create_app(settings, registry, model)`` wires it all.

The edge middleware hands the prediction routes to their one door (``predict.PredictRoutes``);
FastAPI describes them and serves the admin routes. Every error body is rendered by
``render.answer_error``. The Prometheus registry is injected (never the global one). Background
loops run in the lifespan; the track follows the stable-version file (``io.track``) and a
change re-labels metrics, answers and log rows in place (``retrack_all``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from levibot_predictor.core.drift import DriftDetector, ScipyDriftDetector
from levibot_predictor.core.policy import FallbackRule, Thresholds
from levibot_predictor.core.window import RowWindow, plan_client_rows
from levibot_predictor.errors import PredictorError, bad_request, unavailable
from levibot_predictor.http import schemas
from levibot_predictor.http.edge import EdgeMiddleware
from levibot_predictor.http.predict import PredictRoutes, describe_routes
from levibot_predictor.http.render import JSON_MEDIA_TYPE, answer_error
from levibot_predictor.io.background import (
    LoopParts,
    MonitorConfig,
    run_every,
    run_monitor,
    run_tick,
)
from levibot_predictor.io.database import Database, DatabaseUnavailableError
from levibot_predictor.io.killswitch import KillSwitch
from levibot_predictor.io.loader import LoadedModel
from levibot_predictor.io.marketcache import MarketCache
from levibot_predictor.io.metrics import PredictorMetrics, build_model_label
from levibot_predictor.io.outcomes import VersionKey, apply_feedback
from levibot_predictor.io.predlog import IdSource, LogIdentity, PredictionLog
from levibot_predictor.io.retention import RetentionPlan, run_retention
from levibot_predictor.io.shadow import ShadowPartner
from levibot_predictor.io.track import TrackFile
from levibot_predictor.service import Policy, PredictionService, ServiceParts
from levibot_predictor.settings import PredictorSettings


def build_service(
    settings: PredictorSettings, model: LoadedModel, metrics: PredictorMetrics,
    database: Database | None, id_start: int,
) -> PredictionService:  # fmt: skip
    """Wire the service's parts from settings."""
    info = model.runtime.info
    who = LogIdentity(info.model_name, info.version, metrics.base[2], info.horizon_seconds,
                      info.features)  # fmt: skip
    log = PredictionLog(
        database, who=who, dropped=metrics.count_log_dropped, queue_size=settings.log_queue_size,
        batch_rows=settings.log_batch_rows, flush_seconds=settings.log_flush_seconds,
    )  # fmt: skip
    parts = ServiceParts(
        KillSwitch(settings.kill_switch, settings.kill_switch_path),
        MarketCache(settings.symbols, info.features), log,
        RowWindow(settings.drift_window, len(info.features), settings.drift_window_seconds,
                  plan_client_rows(bool(settings.symbols), settings.drift_client_rows_per_second)),
        metrics, IdSource(id_start),
    )  # fmt: skip
    policy = Policy(
        Thresholds(settings.buy_threshold, settings.sell_threshold),
        FallbackRule(settings.fallback, settings.zscore_threshold),
        settings.staleness_limit_seconds,
    )
    return PredictionService(model.runtime, policy, parts)


def create_app(
    settings: PredictorSettings,
    registry: CollectorRegistry,
    model: LoadedModel,
    *,
    clock: Callable[[], float] = time.time,
    detector: DriftDetector | None = None,
    id_start: int = 0,
) -> FastAPI:
    """The predictor's ASGI app for one loaded model version."""
    info = model.runtime.info
    track = TrackFile(info.version, settings.track, settings.stable_version_path)
    base = (build_model_label(info.model_name), info.version, track.current)
    metrics = PredictorMetrics(registry, base)
    dsn = settings.dsn.get_secret_value() if settings.dsn else None
    database = Database(dsn, settings.db_timeout_seconds) if dsn else None
    service = build_service(settings, model, metrics, database, id_start)
    loop_parts = LoopParts(service.kill_switch, service.cache, service.window, metrics, track)
    config = MonitorConfig(
        VersionKey(info.model_name, info.version, client_rows=not settings.symbols),
        settings.outcome_window,
        settings.drift_min_rows, model.reference, detector or ScipyDriftDetector(),
        settings.drift_thin_seconds,
    )  # fmt: skip

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        model.runtime.warm_up()
        metrics.model_info.labels(*metrics.base).set(1)
        metrics.set_kill_switch(service.kill_switch.on)
        tasks = [
            asyncio.create_task(run_every(
                settings.refresh_interval_seconds, lambda: run_tick(loop_parts, database, clock()),
                "tick")),
            asyncio.create_task(run_every(
                settings.monitor_interval_seconds,
                lambda: run_monitor(loop_parts, database, config, clock()), "monitor")),
            asyncio.create_task(service.log.run()),
        ]  # fmt: skip
        if database is not None and settings.log_retention_seconds:
            retention = RetentionPlan(settings.log_retention_seconds,
                                      settings.log_retention_batch_rows)  # fmt: skip
            tasks.append(asyncio.create_task(run_every(
                settings.log_retention_interval_seconds,
                lambda: run_retention(database, info.model_name, retention, clock()),
                "retention")))  # fmt: skip
        if database is not None:  # the shadow pair lives in the registry
            shadow = ShadowPartner(service.shadow, info, metrics)
            poll = settings.shadow_poll_seconds
            tasks.append(asyncio.create_task(run_every(poll, lambda: shadow.poll(database),
                                                       "shadow")))  # fmt: skip
        yield
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await service.log.drain(within=settings.db_timeout_seconds)
        if database is not None:
            await database.close()

    app = FastAPI(
        title="levibot predictor",
        version="v1",
        description="Price-direction predictions from one model version.",
        lifespan=lifespan,
    )
    app.state.service = service
    app.state.database = database
    add_error_handlers(app, metrics)
    features, max_rows = info.features, settings.max_batch_rows
    describe_routes(app, features, max_rows)
    add_admin_routes(app, service, database, registry, clock=clock, track=track)
    door = PredictRoutes(service, schemas.build_rows_adapter(features, max_rows), max_rows,
                         clock, base)  # fmt: skip
    track.subscribe(lambda now: retrack_all(now, metrics, door, service))
    app.add_middleware(
        EdgeMiddleware, metrics=metrics, max_body=settings.max_body_bytes, door=door.answer
    )
    return app


def retrack_all(
    track: str, metrics: PredictorMetrics, door: PredictRoutes, service: PredictionService
) -> None:
    """A new track (promotion): metrics, answers and log rows carry it from now on."""
    model, version, _ = metrics.base
    base = (model, version, track)
    metrics.rebase(base)
    metrics.model_info.labels(*base).set(1)
    metrics.set_kill_switch(service.kill_switch.on)
    door.retrack(base)
    service.log.retrack(track)


HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


def add_error_handlers(app: FastAPI, metrics: PredictorMetrics) -> None:
    """Errors FastAPI meets (admin routes, request validation, routing's 404 and 405) go
    through ``answer_error`` too: one body shape, counted as client errors."""

    def respond(error: PredictorError) -> Response:
        status, body = answer_error(metrics, error)
        return Response(body, status, media_type=JSON_MEDIA_TYPE)

    async def on_predictor_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, PredictorError)
        return respond(exc)

    async def on_validation_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        reason = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:3]
        )
        return respond(bad_request(reason))

    async def on_http_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)  # routing's own 404 and 405
        error = PredictorError(exc.status_code, HTTP_CODES.get(exc.status_code, "http_error"),
                               str(exc.detail))  # fmt: skip
        status, body = answer_error(metrics, error)
        return Response(body, status, headers=exc.headers, media_type=JSON_MEDIA_TYPE)

    app.add_exception_handler(PredictorError, on_predictor_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)


def add_admin_routes(
    app: FastAPI, service: PredictionService, database: Database | None,
    registry: CollectorRegistry, *, clock: Callable[[], float], track: TrackFile,
) -> None:  # fmt: skip
    """Feedback, health, readiness, version and metrics."""
    info = service.runtime.info

    @app.post("/v1/feedback", responses={503: {"model": schemas.ErrorResponse}})
    async def feedback(body: schemas.FeedbackRequest) -> schemas.FeedbackResponse:
        """Record outcomes of logged client feature rows (no symbol) that have none yet."""
        if database is None:
            raise unavailable("no database configured")
        ids = [o.prediction_id for o in body.outcomes]
        try:
            async with database.connection() as conn:
                found = await apply_feedback(
                    conn, info.model_name, ids, [o.outcome for o in body.outcomes], clock()
                )
        except DatabaseUnavailableError as exc:
            raise unavailable(f"database unavailable: {exc}") from exc
        return schemas.FeedbackResponse(updated=len(found), unknown=sorted(set(ids) - found))

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @app.get("/readyz", responses={503: {"model": schemas.ErrorResponse}})
    async def readyz() -> dict[str, str]:
        """Ready once the model is loaded and warmed up."""
        if not service.runtime.ready:
            raise unavailable("model is not loaded yet")
        return {"status": "ready"}

    @app.get("/version")
    async def version() -> schemas.VersionResponse:
        """The loaded model version."""
        return schemas.VersionResponse(
            model=build_model_label(info.model_name), version=info.version, track=track.current,
            model_name=info.model_name, sha256=info.sha256, features=list(info.features),
            horizon_seconds=info.horizon_seconds,
        )  # fmt: skip

    @app.get("/metrics", response_class=Response)
    async def metrics() -> Response:
        """Prometheus metrics (text format)."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

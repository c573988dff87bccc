"""The operator's /metrics and /healthz app, serving the injected registry.

Layer: servers. The metric families are ``adapters.metrics.OperatorMetrics``.
"""

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.exposition import generate_latest

from levibot_operator.adapters.metrics import OperatorMetrics


def build_metrics_app(metrics: OperatorMetrics) -> web.Application:
    """``GET /metrics`` (text exposition) and ``GET /healthz`` (liveness)."""

    async def scrape(_: web.Request) -> web.Response:
        body = generate_latest(metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_get("/metrics", scrape)
    app.router.add_get("/healthz", healthz)
    return app

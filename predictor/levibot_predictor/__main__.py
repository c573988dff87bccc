"""Process entry point (predictor entry, outermost layer): settings → model → app → uvicorn.

``python -m levibot_predictor``. Registry mode waits (with backoff) for the database before
serving, since the request schema depends on the model's features; file mode starts at once.
"""

from __future__ import annotations

import asyncio
import gc
import importlib.util
import logging
import secrets
import sys

import uvicorn
from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from levibot_common.registry import RegistryError
from levibot_predictor.http.app import create_app
from levibot_predictor.io.database import Database, DatabaseUnavailableError
from levibot_predictor.io.loader import (
    LoadedModel,
    fetch_model_from_file,
    fetch_model_from_registry,
)
from levibot_predictor.settings import PredictorSettings

log = logging.getLogger("levibot_predictor")


async def fetch_model_with_retry(settings: PredictorSettings) -> LoadedModel:
    """Load from the registry, retrying while the database is unavailable."""
    assert settings.dsn is not None
    database = Database(settings.dsn.get_secret_value(), settings.db_timeout_seconds)
    delay = 0.5
    try:
        while True:
            try:
                return await fetch_model_from_registry(database, settings)
            except DatabaseUnavailableError as exc:
                log.warning("registry unavailable (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
    finally:
        await database.close()


def load_model(settings: PredictorSettings) -> LoadedModel:
    """File mode if MODEL_PATH is set, else the registry (needs DSN)."""
    if settings.model_path is not None:
        return fetch_model_from_file(settings)
    if settings.dsn is None:
        raise ValueError("LEVIBOT_PREDICTOR_DSN or LEVIBOT_PREDICTOR_MODEL_PATH is required")
    return asyncio.run(fetch_model_with_retry(settings))


def main() -> int:
    """Run the predictor; exit 2 on bad configuration or an unloadable model."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = PredictorSettings()
        model = load_model(settings)
    except (ValidationError, ValueError, RegistryError, OSError) as exc:
        log.error("cannot start: %s", exc)
        return 2
    app = create_app(settings, CollectorRegistry(), model, id_start=secrets.randbits(20))
    # Long-lived objects leave the GC's view, and young-generation passes become rarer:
    # fewer collector pauses in the p99 of a process that allocates small objects per request.
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        workers=1,
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        http="httptools" if importlib.util.find_spec("httptools") else "h11",
        access_log=False,
        log_level="warning",
        proxy_headers=False,  # client addresses are not used; skip the per-request rewrite
        server_header=False,  # do not advertise the server software
        timeout_graceful_shutdown=10,  # never hang a pod's termination on a stuck connection
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

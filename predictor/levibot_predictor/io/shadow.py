"""Shadow partner loading (predictor I/O): follow the registry's shadow pair, load the other side.

Every few seconds (``shadow_poll_seconds``) the poll reads the model's ``shadow_pairs`` row. When
this predictor's version is one side, the other version's ONNX bytes are read from the registry
(sha256 verified by ``fetch_version``), a session is built and warmed up off the event loop, and
the partner is put in the service's ``ShadowSlot``: from the next request on, every served row
is scored by both. The loaded partner is kept while the pair names it (the poll then reads only
the pair row) and dropped when the pair is cleared or names another version. Failures never
touch serving: they are counted (``levibot_shadow_errors_total{stage}``), logged, and retried at
the next poll. ``levibot_shadow_active{partner}`` is 1 while a partner scores, else
``partner=""`` is 0.
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from levibot_common.registry import RegistryError, fetch_shadow_pair, fetch_version
from levibot_predictor.core.runtime import ModelInfo, ModelRuntime
from levibot_predictor.core.shadow import ShadowModel, ShadowSlot, plan_shadow_columns
from levibot_predictor.errors import PredictorError
from levibot_predictor.io.database import Database, DatabaseUnavailableError
from levibot_predictor.io.loader import parse_metadata
from levibot_predictor.io.metrics import PredictorMetrics

log = logging.getLogger(__name__)


class ShadowPartner:
    """Keeps ``slot`` in step with the shadow pair of ``info``'s model; ``poll`` once per period."""

    def __init__(self, slot: ShadowSlot, info: ModelInfo, metrics: PredictorMetrics) -> None:
        self.slot = slot
        self._info = info
        self._metrics = metrics
        self._failed: str | None = None  # the partner whose last load failed (logged once)

    async def poll(self, database: Database) -> None:
        """One poll: read the pair, load or drop the partner, export the gauge."""
        try:
            async with database.connection() as conn:
                pair = await fetch_shadow_pair(conn, self._info.model_name)
                partner = None if pair is None else pair.partner_of(self._info.version)
                loaded = self.slot.current
                if partner is not None and (loaded is None or loaded.version != partner):
                    self.slot.current = await self._load(conn, partner)
        except DatabaseUnavailableError as exc:
            log.debug("shadow poll: database unavailable: %s", exc)  # the pair holds as it was
        else:
            if partner is None and self.slot.current is not None:
                log.info("shadow: %s no longer scored (pair cleared)", self.slot.current.version)
                self.slot.current = None
        self.export()

    async def _load(self, conn: asyncpg.Connection, partner: str) -> ShadowModel | None:
        """The partner, or None (counted, logged once) when it cannot be scored."""
        try:
            version = await fetch_version(conn, self._info.model_name, partner)
            features, horizon = parse_metadata(version.metadata, self._info.horizon_seconds)
            columns = plan_shadow_columns(self._info.features, features)
            info = ModelInfo(version.model_name, version.version, features, version.sha256, horizon)
            runtime = await asyncio.to_thread(build_warm_runtime, version.onnx, info)
        except (RegistryError, ValueError, PredictorError) as exc:
            self._metrics.count_shadow_error("load")
            if self._failed != partner:
                log.warning("shadow: cannot load %s: %s", partner, exc)
            self._failed = partner
            return None
        self._failed = None
        log.info("shadow: scoring %s beside %s", partner, self._info.version)
        return ShadowModel(runtime, columns)

    def export(self) -> None:
        """Set ``levibot_shadow_active`` from the slot (again after a re-label clears it)."""
        current = self.slot.current
        self._metrics.set_shadow(None if current is None else current.version)


def build_warm_runtime(onnx: bytes, info: ModelInfo) -> ModelRuntime:
    """A session for the partner, warmed up (runs in a worker thread, off the event loop)."""
    runtime = ModelRuntime(onnx, info)
    runtime.warm_up()
    return runtime

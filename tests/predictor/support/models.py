"""Test support: small real ONNX models (scikit-learn → skl2onnx) and a running predictor app.

``make_model`` fits a logistic regression on synthetic feature rows and converts it without
ZipMap (probabilities as a tensor), exactly as a serving model should be; ``running_app`` runs
the app's lifespan (warm-up and background loops) around an httpx client on ASGITransport.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from numpy.typing import NDArray
from prometheus_client import CollectorRegistry
from skl2onnx import to_onnx
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from levibot_common.features import FEATURES
from levibot_predictor.core.runtime import ModelInfo, ModelRuntime
from levibot_predictor.core.window import DriftReference
from levibot_predictor.http.app import create_app
from levibot_predictor.io.loader import LoadedModel
from levibot_predictor.settings import PredictorSettings


@dataclass(frozen=True)
class TestModel:
    """ONNX bytes and the fitted scikit-learn pipeline they came from."""

    onnx: bytes
    sklearn: Any
    features: tuple[str, ...]
    train_rows: NDArray[np.float64]


def make_rows(n: int, seed: int = 0, shift: float = 0.0) -> NDArray[np.float64]:
    """Plausible feature rows (returns, vols, rsi, zscore), optionally mean-shifted."""
    rng = np.random.default_rng(seed)
    scale = np.array([1e-3, 2e-3, 1e-4, 2e-4, 15.0, 1.0])
    centre = np.array([0.0, 0.0, 5e-4, 5e-4, 50.0, 0.0])
    return centre + scale * (rng.standard_normal((n, len(FEATURES))) + shift)


def make_model(seed: int = 0) -> TestModel:
    """A fitted StandardScaler+LogisticRegression over all features, as ONNX."""
    rows = make_rows(2000, seed)
    rng = np.random.default_rng(seed + 1)
    labels = (rows[:, 0] * 800 + rows[:, 5] + rng.standard_normal(len(rows)) > 0).astype(int)
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(rows, labels)
    onnx = to_onnx(pipe, rows[:1].astype(np.float32), options={id(pipe): {"zipmap": False}})
    return TestModel(onnx.SerializeToString(), pipe, FEATURES, rows)


def make_loaded(
    model: TestModel, settings: PredictorSettings, reference: bool = True
) -> LoadedModel:
    """A LoadedModel for ``model`` (as the registry loader would return it)."""
    info = ModelInfo(
        settings.model_name, settings.version, model.features, "test", settings.horizon_seconds
    )
    ref = DriftReference(model.features, model.train_rows[:2000]) if reference else None
    return LoadedModel(ModelRuntime(model.onnx, info), ref)


def make_settings(**overrides: Any) -> PredictorSettings:
    """Settings for tests: nothing from the environment, fast loops."""
    values: dict[str, Any] = {
        "model_name": "ns.demo",
        "version": "v1",
        "refresh_interval_seconds": 0.05,
        "monitor_interval_seconds": 0.1,
        "log_flush_seconds": 0.05,
        "db_timeout_seconds": 1.0,
    }
    values.update(overrides)
    return PredictorSettings(**values)


@dataclass
class RunningApp:
    """A client bound to a running app, and the app's Prometheus registry."""

    client: httpx.AsyncClient
    registry: CollectorRegistry
    app: Any

    def metric(self, name: str, **labels: str) -> float | None:
        """A sample's value from the injected registry."""
        return self.registry.get_sample_value(name, labels)


@asynccontextmanager
async def running_app(
    settings: PredictorSettings, loaded: LoadedModel, **kwargs: Any
) -> AsyncIterator[RunningApp]:
    """Create the app, run its lifespan, and yield a client on it."""
    registry = CollectorRegistry()
    app = create_app(settings, registry, loaded, **kwargs)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://predictor") as client,
    ):
        yield RunningApp(client, registry, app)


def write_model(tmp: Path, model: TestModel) -> Path:
    """The ONNX bytes in a file (file mode)."""
    path = tmp / "model.onnx"
    path.write_bytes(model.onnx)
    return path

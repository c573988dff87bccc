"""Acceptance: seeded data in real PostgreSQL → train → registry row → ONNX in onnxruntime."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from levibot_common.features import FEATURES
from levibot_common.registry import STATUS_CANDIDATE
from tests.trainer.support.cli import (
    END,
    read_version,
    read_versions,
    registry_count,
    run_train,
    train_args,
)
from tests.trainer.support.db import connect_with_schema, seed_ticks

pytestmark = pytest.mark.postgres

SEEDED_SECONDS = 2 * 3600


async def seed(dsn: str, symbols: tuple[str, ...] = ("BTCUSDT",)) -> None:
    conn = await connect_with_schema(dsn)
    try:
        end = datetime.fromisoformat(END)
        await seed_ticks(conn, symbols, end=end, seconds=SEEDED_SECONDS, seed=11, signal=0.2)
    finally:
        await conn.close()


@pytest.mark.parametrize(
    ("model_type", "calibration"),
    [("logisticRegression", "none"), ("histGradientBoosting", "sigmoid")],
)
def test_training_registers_a_loadable_candidate(
    pg_dsn: str, tmp_path: Path, model_type: str, calibration: str
) -> None:
    asyncio.run(seed(pg_dsn, ("BTCUSDT", "ETHUSDT")))
    result = tmp_path / "result.json"
    flags = {"model_type": model_type, "calibration": calibration,
             "symbols": '["BTCUSDT", "ETHUSDT"]', "hyperparameters": "{}"}  # fmt: skip
    if model_type == "histGradientBoosting":
        flags["hyperparameters"] = '{"max_iter": 40}'
    code, document = run_train(train_args(pg_dsn, result, **flags), result)
    assert code == 0, document
    assert document["status"] == "ok"
    assert document["reason"] == "registered"
    stored = asyncio.run(read_version(pg_dsn, "ns.md", "v1"))
    assert stored.status == STATUS_CANDIDATE
    assert stored.sha256 == document["sha256"]
    session = ort.InferenceSession(stored.onnx, providers=["CPUExecutionProvider"])
    assert stored.reference is not None
    rows = stored.reference.rows.astype(np.float32)
    (probabilities,) = session.run(["probabilities"], {"features": rows})
    assert probabilities.shape == (rows.shape[0], 2)
    assert stored.reference.features == FEATURES
    assert 0 < rows.shape[0] <= 2000
    assert stored.metadata["parity"]["max_abs_diff"] <= 1e-5
    assert stored.metadata["model_type"] == model_type
    assert stored.metadata["horizon_seconds"] == 60
    assert stored.metadata["split"]["gap_seconds"] >= 60
    assert stored.metadata["counts"]["dropped_incomplete_window"] == 2 * 300
    for key in ("roc_auc", "log_loss", "brier", "ece", "accuracy"):
        assert 0 <= stored.metrics[key] <= 1 or key == "log_loss"
        assert key in stored.metrics["baseline"]
    assert stored.metrics["ece_bins"] == 10
    assert stored.metrics["baseline"]["roc_auc"] == 0.5


def test_rerunning_the_same_version_does_not_train_again(pg_dsn: str, tmp_path: Path) -> None:
    asyncio.run(seed(pg_dsn))
    result = tmp_path / "result.json"
    first_code, first = run_train(train_args(pg_dsn, result), result)
    second_code, second = run_train(
        train_args(pg_dsn, result, model_type="histGradientBoosting"), result
    )
    versions = asyncio.run(read_versions(pg_dsn, "ns.md"))
    assert (first_code, second_code) == (0, 0)
    assert second["reason"] == "already_registered"
    assert second["sha256"] == first["sha256"]
    assert len(versions) == 1
    assert versions[0].metadata["model_type"] == "logisticRegression"


def test_the_job_command_runs_from_env_alone(pg_dsn: str, tmp_path: Path) -> None:
    asyncio.run(seed(pg_dsn))
    result = tmp_path / "result.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEVIBOT_")}
    env.update({
        "LEVIBOT_TRAINER_DSN": pg_dsn, "LEVIBOT_TRAINER_MODEL_NAME": "ns.job",
        "LEVIBOT_TRAINER_VERSION": "v7", "LEVIBOT_TRAINER_SYMBOLS": '["BTCUSDT"]',
        "LEVIBOT_TRAINER_FEATURES": '["ret_1m", "ret_5m", "zscore_60"]',
        "LEVIBOT_TRAINER_HORIZON_SECONDS": "30", "LEVIBOT_TRAINER_DATA_WINDOW_SECONDS": "7200",
        "LEVIBOT_TRAINER_END_TIME": END, "LEVIBOT_TRAINER_RESULT_PATH": str(result),
    })  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "levibot_trainer", "train"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    document = json.loads(result.read_text())
    assert json.loads(done.stdout.strip().splitlines()[-1]) == document
    assert document["version"] == "v7"
    assert asyncio.run(registry_count(pg_dsn)) == 1

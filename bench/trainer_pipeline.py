"""Benchmark: 1 M ticks → features → train → export → register, stage by stage.

Starts a throwaway PostgreSQL 15 (like the tests), seeds ``--ticks`` synthetic ticks with COPY,
then runs, in this one process:

* **levibot**: SQL ``date_bin`` candles streamed in chunks → shared numpy features → time split
  → scikit-learn → ONNX + onnxruntime parity → the retraining-noise envelope (``envelope``: K =
  8 more fits on shifted windows, issue 13) → registry row;
* **baseline** (the seed-style approach): every raw tick fetched into pandas → ``resample('1s')``
  → pandas rolling features → the same split and estimator → pickle → a bytea row.

Per stage it prints wall time and peak RSS (sampled every 5 ms by a thread, so a stage's peak is
the process's largest resident size while that stage ran). Run:
``.venv/bin/python bench/trainer_pipeline.py [--ticks 1000000] [--model-type logisticRegression]``
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import pickle
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import numpy as np
import pandas as pd  # type: ignore[import-untyped]
import psutil  # type: ignore[import-untyped]

from levibot_common.registry import register_version
from levibot_common.schema import apply_schema
from levibot_common.seed import SeedSpec, load_history
from levibot_trainer.core.dataset import Rows, build_rows
from levibot_trainer.io.market import fetch_training_closes
from levibot_trainer.pipeline import (
    Fitted,
    build_reference,
    build_training_rows,
    export_and_check,
    fit_and_assess,
    measure_fitted_envelope,
    plan_checked_split,
)
from levibot_trainer.settings import TrainerSettings

SYMBOLS = ("BTCUSDT", "ETHUSDT")
END = datetime(2025, 3, 1, tzinfo=UTC)
TICKS_PER_SECOND = 2.0


class Meter:
    """Wall time and peak RSS per stage."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.results: dict[str, tuple[float, float]] = {}
        self._peak = 0
        self._running = True
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while self._running:
            self._peak = max(self._peak, self.process.memory_info().rss)
            time.sleep(0.005)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self._peak = self.process.memory_info().rss
        began = time.perf_counter()
        yield
        wall = time.perf_counter() - began
        peak = max(self._peak, self.process.memory_info().rss)
        self.results[name] = (wall, peak / 2**20)

    def stop(self) -> None:
        self._running = False
        self._thread.join()


def build_settings(dsn: str, seconds: int, model_type: str, version: str) -> TrainerSettings:
    return TrainerSettings(
        dsn=dsn, model_name="bench.pipeline", version=version, model_type=model_type,
        symbols=list(SYMBOLS), data_window_seconds=seconds + 1, end_time=END,
        hyperparameters={"max_iter": 100} if model_type == "histGradientBoosting" else {},
    )  # fmt: skip


async def run_levibot(conn: asyncpg.Connection, settings: TrainerSettings, meter: Meter) -> str:
    start = END - timedelta(seconds=settings.data_window_seconds)
    with meter.stage("load"):
        parts = await fetch_training_closes(conn, settings.symbols, start, END)
    with meter.stage("features"):
        rows = build_training_rows(parts, settings)
        split = plan_checked_split(rows, settings)
    with meter.stage("train"):
        fitted = fit_and_assess(rows, split, settings)
    with meter.stage("export"):
        onnx, parity = export_and_check(fitted, settings)
    with meter.stage("envelope"):
        envelope = measure_fitted_envelope(rows, split, fitted, settings)
    with meter.stage("register"):
        await register_version(
            conn, model_name=settings.model_name, version=settings.version, onnx=onnx,
            metadata={"bench": True},
            metrics={**fitted.model.as_dict(), "envelope_rms": envelope.rms},
            reference=build_reference(rows, split, settings),
        )  # fmt: skip
    return (
        f"levibot: AUC {fitted.model.roc_auc:.4f}, parity {parity.max_abs_diff:.2e}, "
        f"envelope {envelope.rms:.4f} (max pairwise RMS {envelope.max_pairwise_rms:.4f}, "
        f"K {envelope.k})"
    )


def pandas_features(ticks: pd.DataFrame, horizon: int) -> Rows:
    """The seed-style feature code: pandas resample + rolling windows."""
    price = ticks.set_index("ts")["price"].resample("1s").last().ffill()
    logret = np.log(price).diff()
    change = price.diff()
    gains = change.clip(lower=0).rolling(14).sum()
    losses = (-change.clip(upper=0)).rolling(14).sum()
    total = gains + losses
    mean60, std60 = price.rolling(60).mean(), price.rolling(60).std(ddof=0)
    frame = pd.DataFrame({
        "ret_1m": price / price.shift(60) - 1, "ret_5m": price / price.shift(300) - 1,
        "vol_1m": logret.rolling(60).std(ddof=0), "vol_5m": logret.rolling(300).std(ddof=0),
        "rsi_14": (100 * gains / total).where(total > 0, 50.0),
        "zscore_60": ((price - mean60) / std60).where(std60 > 0, 0.0),
    })  # fmt: skip
    frame["y"] = (price.shift(-horizon) > price).astype(float).where(price.shift(-horizon).notna())
    complete = frame.dropna()
    t = (complete.index.asi8 // 10**9).astype(np.int64)
    return Rows(t, complete.drop(columns="y").to_numpy(), complete["y"].to_numpy(np.int64), 0, 0)


async def run_baseline(conn: asyncpg.Connection, settings: TrainerSettings, meter: Meter) -> str:
    start = END - timedelta(seconds=settings.data_window_seconds)
    with meter.stage("load"):
        frames = []
        for symbol in settings.symbols:
            records = await conn.fetch(
                "SELECT ts, price FROM market_ticks WHERE symbol = $1 AND ts >= $2 AND ts <= $3 "
                "ORDER BY ts", symbol, start, END,
            )  # fmt: skip
            frames.append(pd.DataFrame(records, columns=["ts", "price"]))
    with meter.stage("features"):
        rows = build_rows([pandas_features(f, settings.horizon_seconds) for f in frames], 6)
        split = plan_checked_split(rows, settings)
    with meter.stage("train"):
        fitted: Fitted = fit_and_assess(rows, split, settings)
    with meter.stage("export"):
        blob = pickle.dumps(fitted.estimator)
    with meter.stage("register"):
        await conn.execute("CREATE TABLE IF NOT EXISTS pickled_models (name text, model bytea)")
        await conn.execute("INSERT INTO pickled_models VALUES ($1, $2)", settings.version, blob)
    return f"baseline: AUC {fitted.model.roc_auc:.4f}"


async def seed(conn: asyncpg.Connection, ticks: int) -> int:
    seconds = int(ticks / TICKS_PER_SECOND / len(SYMBOLS))
    specs = [SeedSpec(s, END.timestamp() - seconds, seconds, 1) for s in SYMBOLS]
    report = await load_history(conn, specs)
    return seconds if report.total else 0


async def run(dsn: str, ticks: int, model_type: str) -> None:
    meter = Meter()
    conn = await asyncpg.connect(dsn)
    try:
        await apply_schema(conn)
        with meter.stage("seed (COPY)"):
            seconds = await seed(conn, ticks)
        total = await conn.fetchval("SELECT count(*) FROM market_ticks")
        print(f"{total} ticks, {len(SYMBOLS)} symbols, {seconds} s each, model {model_type}")
        ours = await run_levibot(conn, build_settings(dsn, seconds, model_type, "v1"), meter)
        levibot = {k: v for k, v in meter.results.items() if k != "seed (COPY)"}
        seeded = meter.results["seed (COPY)"]
        meter.results = {}
        gc.collect()
        theirs = await run_baseline(conn, build_settings(dsn, seconds, model_type, "v2"), meter)
        print_table(levibot, dict(meter.results), seeded)
        print(ours)
        print(theirs)
    finally:
        meter.stop()
        await conn.close()


def print_table(ours: dict[str, tuple[float, float]], theirs: dict[str, tuple[float, float]],
                seeded: tuple[float, float]) -> None:  # fmt: skip
    print(f"seed (COPY): {seeded[0]:.2f} s, peak RSS {seeded[1]:.0f} MiB")
    print(f"{'stage':<10} {'levibot s':>10} {'MiB':>7} | {'baseline s':>10} {'MiB':>7}")
    for name, (a, am) in ours.items():
        if name not in theirs:  # the envelope: the baseline has no such stage
            print(f"{name:<10} {a:>10.2f} {am:>7.0f} | {'-':>10} {'-':>7}")
            continue
        b, bm = theirs[name]
        print(f"{name:<10} {a:>10.2f} {am:>7.0f} | {b:>10.2f} {bm:>7.0f}")
    total_a = sum(v[0] for v in ours.values())
    total_b = sum(v[0] for v in theirs.values())
    peak_a, peak_b = max(v[1] for v in ours.values()), max(v[1] for v in theirs.values())
    print(f"{'total':<10} {total_a:>10.2f} {peak_a:>7.0f} | {total_b:>10.2f} {peak_b:>7.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ticks", type=int, default=1_000_000)
    parser.add_argument("--model-type", default="logisticRegression",
                        choices=["logisticRegression", "histGradientBoosting"])  # fmt: skip
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ helpers
    from levibot_devstack.services import PostgresServer
    from tests.support.services import shared_tmpdir

    workdir: Path = shared_tmpdir("levibot-bench-pg-")
    server = PostgresServer(workdir).start()
    try:
        asyncio.run(run(server.create_database("bench"), args.ticks, args.model_type))
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

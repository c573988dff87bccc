"""Predictor HTTP benchmark: this service vs a seed-style baseline vs raw onnxruntime.

One run, side by side, everything on 127.0.0.1 (one uvicorn worker each, uvloop + httptools):
requests/s under saturation and p50/p99 at a fixed offered load of 1,000 req/s, for single
rows, 100-row batches and the symbol endpoint. ``.venv/bin/python bench/predictor_http.py``.
The load generator is Python on the same 2-core machine: it competes with the server for CPU.
"""

from __future__ import annotations

import asyncio
import json
import os
import pickle
import pwd
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import numpy as np
import onnxruntime as ort
import pandas as pd
from skl2onnx import to_onnx
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.predictor_loadgen import Result, build_request, run_closed, run_open
from hack.localservices import PostgresServer, free_port
from levibot_common.features import FEATURES
from levibot_common.schema import apply_schema

PYTHON = sys.executable
ROOT = Path(__file__).resolve().parent.parent
SATURATE_SECONDS, OPEN_SECONDS, RATE, CONNECTIONS = 4.0, 3.0, 1000.0, 16


def fit_model(workdir: Path) -> tuple[Path, Path, np.ndarray]:
    rng = np.random.default_rng(0)
    rows = rng.standard_normal((5000, len(FEATURES))) * [1e-3, 2e-3, 1e-4, 2e-4, 15, 1]
    labels = (rows[:, 0] * 800 + rows[:, 5] + rng.standard_normal(5000) > 0).astype(int)
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(rows, labels)
    onnx = to_onnx(pipe, rows[:1].astype(np.float32), options={id(pipe): {"zipmap": False}})
    # the baseline predicts from DataFrames: same coefficients, fitted with feature names
    named = make_pipeline(StandardScaler(), LogisticRegression())
    named.fit(pd.DataFrame(rows, columns=list(FEATURES)), labels)
    onnx_path, pickle_path = workdir / "model.onnx", workdir / "model.pkl"
    onnx_path.write_bytes(onnx.SerializeToString())
    pickle_path.write_bytes(pickle.dumps(named))
    return onnx_path, pickle_path, rows


def start_postgres() -> PostgresServer:
    workdir = Path(tempfile.mkdtemp(prefix="levibot-bench-pg-"))
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(workdir, pw.pw_uid, pw.pw_gid)
    return PostgresServer(workdir).start()


async def seed_database(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    await apply_schema(conn)
    now = int(time.time())
    prices = 100 * np.exp(np.cumsum(np.random.default_rng(1).standard_normal(900) * 2e-4))
    records = [("BTCUSDT", datetime.fromtimestamp(now - 900 + i + 0.5, UTC), float(p), 1.0)
               for i, p in enumerate(prices)]  # fmt: skip
    await conn.copy_records_to_table("market_ticks", records=records,
                                     columns=("symbol", "ts", "price", "qty"))  # fmt: skip
    await conn.close()


def wait_http(url: str, body: bytes | None = None, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(url, data=body, method="POST" if body else "GET")
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not become ready")


def start_service(onnx_path: Path, dsn: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "LEVIBOT_PREDICTOR_MODEL_PATH": str(onnx_path),
           "LEVIBOT_PREDICTOR_DSN": dsn, "LEVIBOT_PREDICTOR_PORT": str(port),
           "LEVIBOT_PREDICTOR_HOST": "127.0.0.1", "LEVIBOT_PREDICTOR_SYMBOLS": '["BTCUSDT"]',
           "LEVIBOT_PREDICTOR_MODEL_NAME": "bench.demo",
           "LEVIBOT_PREDICTOR_STALENESS_LIMIT_SECONDS": "100000"}  # fmt: skip
    process = subprocess.Popen([PYTHON, "-m", "levibot_predictor"], env=env, cwd=ROOT)
    wait_http(f"http://127.0.0.1:{port}/readyz")
    return process


def start_baseline(pickle_path: Path, dsn: str, port: int, probe: bytes) -> subprocess.Popen[bytes]:
    script = ROOT / "bench" / "predictor_baseline_app.py"
    process = subprocess.Popen([PYTHON, str(script), str(port), str(pickle_path), dsn], cwd=ROOT)
    wait_http(f"http://127.0.0.1:{port}/v1/predict", probe)
    return process


def bench_raw(rows: np.ndarray, onnx_path: Path) -> dict[str, Result]:
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    results = {}
    for label, batch in (("single", rows[:1]), ("batch100", rows[:100])):
        matrix = batch.astype(np.float32)
        lat = []
        until = time.perf_counter() + 2.0
        start = time.perf_counter()
        while time.perf_counter() < until:
            t0 = time.perf_counter()
            session.run(None, {name: matrix})
            lat.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - start
        ms = np.array(lat) * 1000
        results[label] = Result(len(lat), 0, len(lat) / elapsed, float(np.percentile(ms, 50)),
                                float(np.percentile(ms, 99)))  # fmt: skip
    return results


async def bench_http(port: int, requests: dict[str, bytes]) -> dict[str, tuple[Result, Result]]:
    out = {}
    for label, request in requests.items():
        closed = await run_closed(port, request, CONNECTIONS, SATURATE_SECONDS)
        opened = await run_open(port, request, RATE, OPEN_SECONDS)
        out[label] = (closed, opened)
        errors = closed.errors + opened.errors
        print(f"  {label}: {closed.rps:.0f} req/s; at {RATE:.0f} req/s p50 {opened.p50_ms:.2f} "
              f"ms p99 {opened.p99_ms:.2f} ms (errors {errors})", flush=True)  # fmt: skip
    return out


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="levibot-bench-"))
    onnx_path, pickle_path, rows = fit_model(workdir)
    single = json.dumps({"rows": [dict(zip(FEATURES, map(float, rows[0]), strict=True))]}).encode()
    batch = json.dumps(
        {"rows": [dict(zip(FEATURES, map(float, r), strict=True)) for r in rows[:100]]}
    ).encode()
    requests = {"single": build_request("/v1/predict", single),
                "batch100": build_request("/v1/predict", batch),
                "symbol": build_request("/v1/predict/BTCUSDT", b"")}  # fmt: skip
    pg = start_postgres()
    dsn = pg.create_database("bench")
    asyncio.run(seed_database(dsn))
    ours_port, base_port = free_port(), free_port()
    processes = [start_service(onnx_path, dsn, ours_port),
                 start_baseline(pickle_path, dsn, base_port, single)]  # fmt: skip
    try:
        raw = bench_raw(rows, onnx_path)
        print("this service:", flush=True)
        ours = asyncio.run(bench_http(ours_port, requests))
        print("seed-style baseline:", flush=True)
        base = asyncio.run(bench_http(base_port, requests))
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)
        pg.stop()
    print_table(ours, base, raw)


def print_table(ours: dict[str, tuple[Result, Result]], base: dict[str, tuple[Result, Result]],
                raw: dict[str, Result]) -> None:  # fmt: skip
    row = "{:<10} {:<22} {:>17} {:>13} {:>13}"
    print("\n" + row.format("case", "system", "req/s (1 worker)", "p50 ms @1k/s", "p99 ms @1k/s"))
    for label in ("single", "batch100", "symbol"):
        for name, table in (("this service", ours), ("seed-style baseline", base)):
            closed, opened = table[label]
            figures = (f"{closed.rps:.0f}", f"{opened.p50_ms:.2f}", f"{opened.p99_ms:.2f}")
            print(row.format(label, name, *figures))
        if label in raw:
            r = raw[label]
            figures = (f"{r.rps:.0f}", f"{r.p50_ms:.3f}", f"{r.p99_ms:.3f}")
            print(row.format(label, "raw onnxruntime", *figures), " (in-process calls, no HTTP)")
    ratio = ours["symbol"][0].rps / base["symbol"][0].rps
    print(f"\nsymbol endpoint: {ratio:.1f}x the baseline's requests/s")


if __name__ == "__main__":
    main()

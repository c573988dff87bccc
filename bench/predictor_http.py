"""Predictor HTTP benchmark: this service vs a seed-style baseline vs raw onnxruntime.

One run, side by side, everything on 127.0.0.1 (one uvicorn worker each, uvloop + httptools),
one server at a time. The server is pinned to CPU 0; the load generators and PostgreSQL to
CPU 1 (``taskset``), so the generator does not steal the server's core. Requests/s under
saturation come from ``wrk`` (16 keep-alive connections); p50/p99 from an open-loop generator
at a fixed 1,000 req/s, measured from each request's scheduled send time. The machine's load
average is printed with the figures: other work on the same cores moves them.

``.venv/bin/python bench/predictor_http.py [--before GIT_REF]``: with ``--before``, the
predictor package as committed at GIT_REF is measured too, in the same run (before/after).

``--shadow [--repeat N]``: the cost of shadow scoring (issue 13). The same service is measured
without a shadow pair and with one (a partner version registered, the pair written, the run
starting once ``levibot_shadow_active`` names the partner), alternately, N rounds; the table
shows the median of each figure over the rounds, and the shadow cost in requests/s per case.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pickle
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
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
from bench.predictor_loadgen import Result, run_open_process, run_wrk
from levibot_common.features import FEATURES
from levibot_common.registry import apply_shadow_pair, clear_shadow_pair, register_version
from levibot_common.schema import apply_schema
from levibot_devstack.net import free_port
from levibot_devstack.services import PostgresServer

PYTHON = sys.executable
ROOT = Path(__file__).resolve().parent.parent
SERVER_CPU, LOAD_CPU = 0, 1
SATURATE_SECONDS, OPEN_SECONDS, RATE, CONNECTIONS = 5, 6.0, 1000.0, 16
CASES = {"single": "/v1/predict", "batch100": "/v1/predict", "symbol": "/v1/predict/BTCUSDT"}
MODEL_NAME = "bench.demo"
Figures = dict[str, tuple[Result, Result, float]]


def fit_partner(seed: int = 7) -> bytes:
    """A second version of the model (another sample, same recipe): the shadow partner."""
    rng = np.random.default_rng(seed)
    rows = rng.standard_normal((5000, len(FEATURES))) * [1e-3, 2e-3, 1e-4, 2e-4, 15, 1]
    labels = (rows[:, 0] * 800 + rows[:, 5] + rng.standard_normal(5000) > 0).astype(int)
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(rows, labels)
    onnx = to_onnx(pipe, rows[:1].astype(np.float32), options={id(pipe): {"zipmap": False}})
    return bytes(onnx.SerializeToString())


async def apply_pair(dsn: str, on: bool) -> None:
    """Register the partner v2 (idempotent) and write or clear the pair v1 <-> v2."""
    conn = await asyncpg.connect(dsn)
    try:
        await register_version(conn, model_name=MODEL_NAME, version="v2", onnx=fit_partner(),
                               metadata={"features": list(FEATURES)}, metrics={},
                               reference=None)  # fmt: skip
        if on:
            await apply_shadow_pair(conn, MODEL_NAME, "v1", "v2", "bench-v2")
        else:
            await clear_shadow_pair(conn, MODEL_NAME, "bench-v2")
    finally:
        await conn.close()


def start_shadowed(onnx_path: Path, dsn: str, port: int, on: bool) -> subprocess.Popen[bytes]:
    """This service with (``on``) or without a shadow pair; with one, wait until it scores."""
    asyncio.run(apply_pair(dsn, on))
    process = start_service(onnx_path, dsn, port, None)
    deadline = time.monotonic() + 30
    while on:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
            text = response.read().decode()
        if any(line.startswith("levibot_shadow_active{") and 'partner="v2"' in line
               and line.endswith(" 1.0") for line in text.splitlines()):  # fmt: skip
            break
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the shadow partner was not loaded within 30 s")
        time.sleep(0.2)
    return process


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


def pin(pid: int, cpu: int) -> None:
    """Pin a process and all its threads to one CPU."""
    subprocess.run(["taskset", "-a", "-cp", str(cpu), str(pid)], check=True, capture_output=True)


def start_postgres() -> PostgresServer:
    workdir = Path(tempfile.mkdtemp(prefix="levibot-bench-pg-"))
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(workdir, pw.pw_uid, pw.pw_gid)
    server = PostgresServer(workdir).start()
    assert server.process is not None
    assert server.process.proc is not None
    sid = server.process.proc.pid  # its own session: postmaster and every child
    pids = subprocess.run(
        ["pgrep", "-s", str(sid)], check=False, capture_output=True, text=True
    ).stdout
    for pid in pids.split():
        pin(int(pid), LOAD_CPU)  # backends forked later inherit the postmaster's CPU
    return server


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


def start_service(
    onnx_path: Path, dsn: str, port: int, source: Path | None
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "LEVIBOT_PREDICTOR_MODEL_PATH": str(onnx_path),
           "LEVIBOT_PREDICTOR_DSN": dsn, "LEVIBOT_PREDICTOR_PORT": str(port),
           "LEVIBOT_PREDICTOR_HOST": "127.0.0.1", "LEVIBOT_PREDICTOR_SYMBOLS": '["BTCUSDT"]',
           "LEVIBOT_PREDICTOR_MODEL_NAME": MODEL_NAME,
           "LEVIBOT_PREDICTOR_STALENESS_LIMIT_SECONDS": "100000"}  # fmt: skip
    if source is not None:  # an older predictor package shadows the installed one
        env["PYTHONPATH"] = str(source)
    argv = ["taskset", "-c", str(SERVER_CPU), PYTHON, "-m", "levibot_predictor"]
    process = subprocess.Popen(argv, env=env, cwd=ROOT)
    wait_http(f"http://127.0.0.1:{port}/readyz")
    return process


def start_baseline(pickle_path: Path, dsn: str, port: int, probe: bytes) -> subprocess.Popen[bytes]:
    script = ROOT / "bench" / "predictor_baseline_app.py"
    argv = ["taskset", "-c", str(SERVER_CPU), PYTHON, str(script), str(port), str(pickle_path), dsn]
    process = subprocess.Popen(argv, cwd=ROOT)
    wait_http(f"http://127.0.0.1:{port}/v1/predict", probe)
    return process


def extract_source(ref: str) -> Path:
    """The predictor package as committed at ``ref``, in a temporary directory."""
    target = Path(tempfile.mkdtemp(prefix="levibot-bench-before-"))
    archive = subprocess.run(["git", "archive", ref, "predictor"], cwd=ROOT, check=True,
                             capture_output=True).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target / "predictor"


def bench_raw(rows: np.ndarray, onnx_path: Path) -> dict[str, Result]:
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    results = {}
    os.sched_setaffinity(0, {SERVER_CPU})  # the server's core, as the services get
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
    os.sched_setaffinity(0, {LOAD_CPU})
    return results


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_http(port: int, pid: int, bodies: dict[str, bytes]) -> Figures:
    """Per case: saturating wrk run (req/s, server CPU per request), then the open loop."""
    out = {}
    for label, path in CASES.items():
        body = bodies[label]
        run_wrk(port, path, body, CONNECTIONS, 1, cpu=LOAD_CPU)  # warm-up, not counted
        used = cpu_seconds(pid)
        closed = run_wrk(port, path, body, CONNECTIONS, SATURATE_SECONDS, cpu=LOAD_CPU)
        per_request = (cpu_seconds(pid) - used) / closed.done * 1e6
        opened = run_open_process(port, path, body, RATE, OPEN_SECONDS, cpu=LOAD_CPU)
        out[label] = (closed, opened, per_request)
        errors = closed.errors + opened.errors
        print(f"  {label}: {closed.rps:.0f} req/s, {per_request:.0f} CPU us/req; at {RATE:.0f} "
              f"req/s p50 {opened.p50_ms:.2f} ms p99 {opened.p99_ms:.2f} ms (errors {errors}; "
              f"load average {load_average()})", flush=True)  # fmt: skip
    return out


def measure(name: str, start: Callable[[], subprocess.Popen[bytes]], port: int,
            bodies: dict[str, bytes]) -> Figures:  # fmt: skip
    """Start one server, measure every case, stop it: one server on its core at a time."""
    print(f"{name}: (load average {load_average()})", flush=True)
    process = start()
    try:
        return bench_http(port, process.pid, bodies)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            print(f"  ! {name} did not stop within 15 s of SIGTERM; killed", flush=True)
            process.kill()
            process.wait()


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def build_bodies(rows: np.ndarray) -> dict[str, bytes]:
    def row(values: np.ndarray) -> dict[str, float]:
        return dict(zip(FEATURES, map(float, values), strict=True))

    return {"single": json.dumps({"rows": [row(rows[0])]}).encode(),
            "batch100": json.dumps({"rows": [row(r) for r in rows[:100]]}).encode(),
            "symbol": b""}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", metavar="GIT_REF", help="also measure the predictor at REF")
    parser.add_argument(
        "--shadow",
        action="store_true",
        help="measure this service without and with a shadow partner instead",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="N",
        help="rounds of every system, alternating; the table shows medians",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install -y wrk")
    os.sched_setaffinity(0, {LOAD_CPU})
    workdir = Path(tempfile.mkdtemp(prefix="levibot-bench-"))
    onnx_path, pickle_path, rows = fit_model(workdir)
    bodies = build_bodies(rows)
    pg = start_postgres()
    dsn = pg.create_database("bench")
    asyncio.run(seed_database(dsn))
    port = free_port()
    systems: dict[str, Callable[[], subprocess.Popen[bytes]]] = {}
    if args.shadow:
        systems["no shadow"] = lambda: start_shadowed(onnx_path, dsn, port, False)
        systems["shadow (partner v2)"] = lambda: start_shadowed(onnx_path, dsn, port, True)
    elif args.before:
        source = extract_source(args.before)
        systems[f"before ({args.before})"] = lambda: start_service(onnx_path, dsn, port, source)
    if not args.shadow:
        systems["this service"] = lambda: start_service(onnx_path, dsn, port, None)
        systems["seed-style baseline"] = lambda: start_baseline(
            pickle_path, dsn, port, bodies["single"]
        )
    rounds: dict[str, list[Figures]] = {name: [] for name in systems}
    try:
        raw = bench_raw(rows, onnx_path)
        for number in range(args.repeat):
            for name, start in systems.items():
                rounds[name].append(measure(f"{name} (round {number + 1})", start, port, bodies))
    finally:
        pg.stop()
    figures = {name: build_medians(runs) for name, runs in rounds.items()}
    print_table(figures, raw)
    if args.shadow:
        print_shadow_cost(figures)


def build_medians(runs: list[Figures]) -> Figures:
    """Per case, the median of each figure over the rounds."""
    out = {}
    for label in CASES:
        closed = [run[label][0] for run in runs]
        opened = [run[label][1] for run in runs]
        cpu = float(np.median([run[label][2] for run in runs]))
        out[label] = (median_result(closed), median_result(opened), cpu)
    return out


def median_result(results: list[Result]) -> Result:
    def med(values: list[float]) -> float:
        return float(np.median(values))

    return Result(int(med([r.done for r in results])), int(med([r.errors for r in results])),
                  med([r.rps for r in results]), med([r.p50_ms for r in results]),
                  med([r.p99_ms for r in results]))  # fmt: skip


def print_shadow_cost(figures: dict[str, Figures]) -> None:
    """Requests/s lost to shadow scoring, per case (the target is at most 15 %)."""
    plain, shadow = figures["no shadow"], figures["shadow (partner v2)"]
    print("\nshadow scoring cost (median req/s, same run):")
    for label in CASES:
        before, after = plain[label][0].rps, shadow[label][0].rps
        cpu = shadow[label][2] - plain[label][2]
        print(f"  {label}: {before:.0f} -> {after:.0f} req/s ({1 - after / before:+.1%} fewer), "
              f"+{cpu:.0f} CPU us/req")  # fmt: skip


def print_table(figures: dict[str, Figures], raw: dict[str, Result]) -> None:
    row = "{:<10} {:<22} {:>17} {:>13} {:>13} {:>13}"
    print(f"\nload average {load_average()} on {os.cpu_count()} CPUs; server on CPU {SERVER_CPU}, "
          f"load generators and PostgreSQL on CPU {LOAD_CPU}")  # fmt: skip
    print(
        row.format(
            "case", "system", "req/s (1 worker)", "p50 ms @1k/s", "p99 ms @1k/s", "CPU us/req"
        )
    )
    for label in CASES:
        for name, table in figures.items():
            closed, opened, cpu = table[label]
            cells = (
                f"{closed.rps:.0f}",
                f"{opened.p50_ms:.2f}",
                f"{opened.p99_ms:.2f}",
                f"{cpu:.0f}",
            )
            print(row.format(label, name, *cells))
        if label in raw:
            r = raw[label]
            cells = (f"{r.rps:.0f}", f"{r.p50_ms:.3f}", f"{r.p99_ms:.3f}", f"{1e6 / r.rps:.0f}")
            print(row.format(label, "raw onnxruntime", *cells), " (in-process calls, no HTTP)")
    if "seed-style baseline" in figures:
        ours = figures["this service"]["symbol"][0]
        base = figures["seed-style baseline"]["symbol"][0]
        print(f"\nsymbol endpoint: {ours.rps / base.rps:.1f}x the baseline's requests/s")


if __name__ == "__main__":
    main()

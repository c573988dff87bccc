"""Load generators for the predictor benchmark (benchmark helper, not product code).

``run_wrk``: saturating closed-loop load with ``wrk`` (Debian), a Lua script carrying the POST
body, C keep-alive connections on one thread → requests/s.

``run_open`` / ``python bench/predictor_loadgen.py PORT PATH BODY_FILE RATE SECONDS``: an
open-loop generator at a fixed offered rate (what wrk2 does; wrk2 is not in Debian). Request
bytes are built once; each of ``pool`` keep-alive connections is an ``asyncio.Protocol`` (no
stream objects, uvloop when available). A request that finds every connection busy waits in a
backlog, and every latency is measured from the request's *scheduled* send time, so queueing
counts and there is no coordinated omission. Meant to run in its own process, pinned with
``taskset`` to a core the server does not use; it prints one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import tempfile
import time
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

CONTENT_LENGTH = re.compile(rb"content-length:\s*(\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class Result:
    """Completed requests, errors, requests/s and latency percentiles (ms)."""

    done: int
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float


def build_request(path: str, body: bytes) -> bytes:
    """One keep-alive HTTP/1.1 POST, as bytes."""
    head = (f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")  # fmt: skip
    return head.encode() + body


# ---------------------------------------------------------------- closed loop: wrk

WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = [==[%s]==]
wrk.headers["Content-Type"] = "application/json"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT %%d %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration, e.status,
    e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(99)))
end
"""


def run_wrk(port: int, path: str, body: bytes, connections: int, seconds: float,
            *, cpu: int | None) -> Result:  # fmt: skip
    """Saturating load with wrk (one thread) → requests/s (and its closed-loop latencies)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % body.decode())
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", script.name,
            f"http://127.0.0.1:{port}{path}"]  # fmt: skip
    if cpu is not None:
        argv = ["taskset", "-c", str(cpu), *argv]
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    Path(script.name).unlink()
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    done, micros, status, sock, p50, p99 = (int(v) for v in line.split()[1:])
    return Result(done, status + sock, done / (micros / 1e6), p50 / 1000, p99 / 1000)


# ---------------------------------------------------------------- open loop


class Connection(asyncio.Protocol):
    """One keep-alive connection with at most one request in flight."""

    def __init__(self, gen: OpenLoop) -> None:
        self.gen = gen
        self.buffer = b""
        self.scheduled = 0.0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass

    def send(self, scheduled: float) -> None:
        assert self.transport is not None
        self.scheduled = scheduled
        self.transport.write(self.gen.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        match = CONTENT_LENGTH.search(self.buffer, 0, end)
        total = end + 4 + (int(match.group(1)) if match else 0)
        if len(self.buffer) < total:
            return
        ok = self.buffer[9:12] == b"200"
        self.buffer = self.buffer[total:]
        self.gen.finished(self, self.scheduled, ok)


class OpenLoop:
    """Sends ``request`` at fixed intervals over a pool; latencies from scheduled times."""

    def __init__(self, request: bytes) -> None:
        self.request = request
        self.free: deque[Connection] = deque()
        self.backlog: deque[float] = deque()
        self.latencies: list[float] = []
        self.errors = 0
        self.outstanding = 0
        self.idle = asyncio.Event()

    def submit(self, scheduled: float) -> None:
        self.outstanding += 1
        if self.free:
            self.free.popleft().send(scheduled)
        else:
            self.backlog.append(scheduled)

    def finished(self, conn: Connection, scheduled: float, ok: bool) -> None:
        self.latencies.append(time.perf_counter() - scheduled)
        self.errors += not ok
        self.outstanding -= 1
        if not self.outstanding:
            self.idle.set()
        if self.backlog:
            conn.send(self.backlog.popleft())
        else:
            self.free.append(conn)


async def run_open(port: int, request: bytes, rate: float, seconds: float,
                   pool: int = 32) -> Result:  # fmt: skip
    """Offered load of ``rate`` req/s for ``seconds`` over ``pool`` keep-alive connections."""
    loop = asyncio.get_running_loop()
    gen = OpenLoop(request)
    for _ in range(pool):
        _, conn = await loop.create_connection(lambda: Connection(gen), "127.0.0.1", port)
        gen.free.append(conn)
    total, interval = int(rate * seconds), 1.0 / rate
    start = time.perf_counter()
    sent = 0
    while sent < total:
        due = min(total, int((time.perf_counter() - start) / interval) + 1)
        for i in range(sent, due):
            gen.submit(start + i * interval)
        sent = due
        await asyncio.sleep(max(0.0, start + sent * interval - time.perf_counter()))
    if gen.outstanding:
        gen.idle.clear()
        await gen.idle.wait()
    elapsed = time.perf_counter() - start
    for conn in gen.free:
        assert conn.transport is not None
        conn.transport.close()
    return build_result(gen.latencies, gen.errors, elapsed)


def build_result(lat: list[float], errors: int, elapsed: float) -> Result:
    """Percentiles (ms) and throughput of a set of latencies (seconds)."""
    values = np.array(lat) * 1000.0
    return Result(len(lat), errors, len(lat) / elapsed, float(np.percentile(values, 50)),
                  float(np.percentile(values, 99)))  # fmt: skip


def run_open_process(port: int, path: str, body: bytes, rate: float, seconds: float,
                     *, cpu: int | None) -> Result:  # fmt: skip
    """``run_open`` in a child process (pinned to ``cpu``), so it shares no core with us."""
    with tempfile.NamedTemporaryFile("wb", suffix=".json", delete=False) as handle:
        handle.write(body)
    argv = [sys.executable, __file__, str(port), path, handle.name, str(rate), str(seconds)]
    if cpu is not None:
        argv = ["taskset", "-c", str(cpu), *argv]
    done = subprocess.run(argv, check=False, capture_output=True, text=True)
    Path(handle.name).unlink()
    if done.returncode != 0:
        raise RuntimeError(f"open-loop generator failed:\n{done.stderr[-2000:]}")
    return Result(**json.loads(done.stdout.splitlines()[-1]))


def main() -> None:
    port, path, body_file, rate, seconds = sys.argv[1:6]
    request = build_request(path, Path(body_file).read_bytes())
    try:
        import uvloop  # optional: only the generator process needs it

        result = uvloop.run(run_open(int(port), request, float(rate), float(seconds)))
    except ImportError:
        result = asyncio.run(run_open(int(port), request, float(rate), float(seconds)))
    print(json.dumps(asdict(result)))


if __name__ == "__main__":
    main()

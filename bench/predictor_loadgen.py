"""A small keep-alive HTTP/1.1 load generator on raw asyncio sockets (benchmark helper).

``run_closed``: C connections send back-to-back for D seconds → requests/s.
``run_open``: a fixed offered rate for D seconds, latency measured from each request's
*scheduled* send time (so queueing delay counts, no coordinated omission) → p50/p99.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Result:
    """Completed requests, errors, requests/s and latency percentiles (ms)."""

    done: int
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float


def build_request(path: str, body: bytes) -> bytes:
    head = (f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")  # fmt: skip
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    await reader.readexactly(length)
    return status


async def _connection(port: int, request: bytes, until: float, lat: list[float]) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    errors = 0
    while time.perf_counter() < until:
        start = time.perf_counter()
        writer.write(request)
        if await _read_response(reader) != 200:
            errors += 1
        lat.append(time.perf_counter() - start)
    writer.close()
    return errors


async def run_closed(port: int, request: bytes, connections: int, seconds: float) -> Result:
    """Saturating load: ``connections`` keep-alive connections, back to back."""
    lat: list[float] = []
    until = time.perf_counter() + seconds
    started = time.perf_counter()
    errors = await asyncio.gather(
        *(_connection(port, request, until, lat) for _ in range(connections))
    )
    elapsed = time.perf_counter() - started
    return _result(lat, sum(errors), elapsed)


async def run_open(
    port: int, request: bytes, rate: float, seconds: float, pool: int = 32
) -> Result:
    """Offered load of ``rate`` req/s over a pool of keep-alive connections."""
    conns = [await asyncio.open_connection("127.0.0.1", port) for _ in range(pool)]
    free: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for conn in conns:
        free.put_nowait(conn)
    lat: list[float] = []
    errors = 0

    async def one(scheduled: float) -> None:
        nonlocal errors
        reader, writer = await free.get()
        writer.write(request)
        if await _read_response(reader) != 200:
            errors += 1
        lat.append(time.perf_counter() - scheduled)
        free.put_nowait((reader, writer))

    total = int(rate * seconds)
    start = time.perf_counter()
    tasks = []
    for i in range(total):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    for _, writer in conns:
        writer.close()
    return _result(lat, errors, elapsed)


def _result(lat: list[float], errors: int, elapsed: float) -> Result:
    values = np.array(lat) * 1000.0
    return Result(len(lat), errors, len(lat) / elapsed, float(np.percentile(values, 50)),
                  float(np.percentile(values, 99)))  # fmt: skip

"""The throwaway servers are real: PostgreSQL answers asyncpg, Prometheus scrapes
and evaluates rules, Alertmanager delivers to a webhook."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import asyncpg
import pytest

from levibot_devstack.services import AlertmanagerServer, PostgresServer, PrometheusServer


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.load(resp)


def _poll(fetch: Any, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fetch()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"nothing after {timeout}s")


class _Recorder(BaseHTTPRequestHandler):
    """Serves /metrics (a fixed gauge) and records POSTed bodies."""

    bodies: ClassVar[list[bytes]] = []

    def do_GET(self) -> None:
        body = b'# TYPE levibot_test_gauge gauge\nlevibot_test_gauge{job_kind="x"} 42\n'
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        type(self).bodies.append(self.rfile.read(length))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:  # keep pytest output clean
        return


@pytest.fixture
def local_http() -> Iterator[HTTPServer]:
    _Recorder.bodies = []
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.postgres
async def test_postgres_round_trip(pg_dsn: str) -> None:
    conn = await asyncpg.connect(pg_dsn)
    try:
        await conn.execute("CREATE TABLE t (id int PRIMARY KEY, note text)")
        await conn.execute("INSERT INTO t VALUES ($1, $2)", 7, "seven")
        assert await conn.fetchval("SELECT note FROM t WHERE id = $1", 7) == "seven"
        version = await conn.fetchval("SHOW server_version_num")
        assert version.startswith("15")
    finally:
        await conn.close()


@pytest.mark.postgres
async def test_postgres_stops_and_comes_back(pg_server: PostgresServer, pg_dsn: str) -> None:
    pg_server.stop()
    with pytest.raises(OSError, match=r"Connect call failed|refused"):
        await asyncpg.connect(pg_dsn, timeout=2)
    pg_server.start()
    conn = await asyncpg.connect(pg_dsn)
    assert await conn.fetchval("SELECT 1") == 1
    await conn.close()


@pytest.mark.prometheus
def test_prometheus_scrapes_and_evaluates_a_rule(
    prometheus: PrometheusServer, local_http: HTTPServer
) -> None:
    rules = prometheus.workdir / "rules.yml"
    rules.write_text(
        "groups:\n- name: t\n  interval: 1s\n  rules:\n"
        "  - alert: GaugeHigh\n    expr: levibot_test_gauge > 40\n"
        "    labels: {severity: warning}\n"
    )
    target = f"127.0.0.1:{local_http.server_address[1]}"
    prometheus.reload(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"rule_files: [{rules}]\n"
        f"scrape_configs:\n- job_name: t\n  static_configs: [{{targets: ['{target}']}}]\n"
    )
    query = urllib.parse.quote("levibot_test_gauge")
    result = _poll(
        lambda: _get_json(f"{prometheus.url}/api/v1/query?query={query}")["data"]["result"]
    )
    assert result[0]["value"][1] == "42"
    alerts = _poll(lambda: _get_json(f"{prometheus.url}/api/v1/alerts")["data"]["alerts"])
    assert alerts[0]["labels"]["alertname"] == "GaugeHigh"
    assert alerts[0]["state"] == "firing"


@pytest.mark.prometheus
def test_alertmanager_delivers_to_a_webhook(
    alertmanager: AlertmanagerServer, local_http: HTTPServer
) -> None:
    hook = f"http://127.0.0.1:{local_http.server_address[1]}/hook"
    alertmanager.reload(
        "route: {receiver: hook, group_wait: 0s, group_interval: 1s, repeat_interval: 1h}\n"
        f"receivers:\n- name: hook\n  webhook_configs: [{{url: '{hook}', send_resolved: true}}]\n"
    )
    alert = [
        {
            "labels": {"alertname": "LevibotTest", "namespace": "ns"},
            "annotations": {"summary": "test"},
        }
    ]
    req = urllib.request.Request(
        f"{alertmanager.url}/api/v2/alerts",
        data=json.dumps(alert).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert resp.status == 200
    ours = {"alertname": "LevibotTest", "namespace": "ns"}

    def delivered() -> dict[str, Any] | None:
        # The session's Alertmanager may still hold other tests' alerts: find ours among them.
        alerts = (a for b in _Recorder.bodies for a in json.loads(b)["alerts"])
        return next((a for a in alerts if a["labels"] == ours), None)

    alert = _poll(delivered)
    assert alert["status"] == "firing"
    assert alert["labels"] == ours

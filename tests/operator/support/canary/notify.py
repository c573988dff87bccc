"""A local receiver of the operator's notification webhook for the canary cluster tests: a
threading http.server on loopback recording each POST's JSON body and Authorization header, and
the operator settings (LEVIBOT_OPERATOR_NOTIFY_*) that point at it.

Used by tests/operator/test_cluster_canary.py.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from levibot_devstack.net import free_port


@dataclass
class NotificationReceiver:
    """Where the operator posts its notices, and what arrived there (Authorization, body)."""

    url: str
    token: str
    token_file: Path
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def env(self, **settings: str) -> dict[str, str]:
        """The operator's notification settings (NOTIFY_RETRIES=... and so on as keywords)."""
        extra = {f"LEVIBOT_OPERATOR_NOTIFY_{k.upper()}": v for k, v in settings.items()}
        return {
            "LEVIBOT_OPERATOR_NOTIFY_URL": self.url,
            "LEVIBOT_OPERATOR_NOTIFY_TOKEN_FILE": str(self.token_file),
            **extra,
        }

    def find(self, kind: str) -> tuple[str, dict[str, Any]] | None:
        """The first notice of ``kind`` received, with its Authorization header."""
        with self.lock:
            return next((r for r in self.received if r[1].get("kind") == kind), None)


def build_handler(receiver: NotificationReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            with receiver.lock:
                receiver.received.append((self.headers.get("Authorization", ""), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            del format, args  # quiet

    return Handler


@contextmanager
def serve_notifications(
    tmp_path: Path, *, listening: bool = True
) -> Iterator[NotificationReceiver]:
    """A receiver on a free loopback port with a bearer token in a file; ``listening=False``:
    its URL names a free port where nothing listens (a receiver that is down)."""
    token_file = tmp_path / "notify.token"
    token_file.write_text("notify-secret\n")
    port = free_port()
    receiver = NotificationReceiver(f"http://127.0.0.1:{port}/hook", "notify-secret", token_file)
    if not listening:
        yield receiver
        return
    server = ThreadingHTTPServer(("127.0.0.1", port), build_handler(receiver))
    thread = threading.Thread(target=server.serve_forever, name="notify-receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

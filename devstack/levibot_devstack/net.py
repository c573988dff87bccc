"""Loopback networking for the dev stack: a free port, and whether an HTTP endpoint answers.

Tooling layer. Every server of the dev stack (and every test server) binds 127.0.0.1 on a port
the kernel picks here; start-up waits poll `http_ok` until the server is ready.
"""

from __future__ import annotations

import socket
import ssl
import urllib.request


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (the kernel picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_ok(url: str, context: ssl.SSLContext | None = None) -> bool:
    """True when GET `url` answers 200 within two seconds (`context` for HTTPS)."""
    try:
        with urllib.request.urlopen(url, timeout=2, context=context) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False

"""Helpers for the end-to-end tests on the local stack (hack/localstack.py)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from hack.localstack import LocalStack, load_example

__all__ = ["eventually", "load_example", "new_namespace", "wait_phase"]


def new_namespace(stack: LocalStack) -> str:
    return stack.create_tenant_namespace(f"e2e-{uuid.uuid4().hex[:8]}")


def eventually(check: Callable[[], Any], timeout: float, what: str, every: float = 1.0) -> Any:
    """Polls `check` until truthy; fails the test naming `what` and the last value."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except (KeyError, IndexError, TypeError) as err:
            last = err
        else:
            if last:
                return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; last: {last!r}")


def wait_phase(
    stack: LocalStack, ns: str, kind: str, name: str, phase: str, *, timeout: float
) -> Any:
    def reached() -> Any:
        obj = stack.get(ns, kind, name)
        return obj if obj.get("status", {}).get("phase") == phase else None

    return eventually(reached, timeout, f"{kind}/{name} phase {phase}")

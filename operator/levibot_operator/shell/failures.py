"""How a failed reconcile is described to the user: the API server's refusal of a write (with the
fields it names) and an unexpected error; and the resync loop's per-object retry backoff.

Layer: shell (reads kubernetes_asyncio's ApiException; no I/O). The descriptions end up in a
status condition and an Event, so a user sees ``spec.template.spec.containers[0].resources...``
without reading the operator's log.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubernetes_asyncio.client.exceptions import ApiException

from levibot_operator.core.intents import DeleteDeployment, DeleteObject

# Not a refusal of the write itself: gone, conflict, throttled (retried as transient).
TRANSIENT_STATUSES = frozenset({404, 409, 429})
BACKOFF_CAP_SECONDS = 600.0


def is_refusal(exc: BaseException) -> bool:
    """True for a 4xx the server will answer again to the same write (invalid, forbidden...)."""
    status = getattr(exc, "status", None)
    return (
        isinstance(exc, ApiException)
        and isinstance(status, int)
        and 400 <= status < 500
        and status not in TRANSIENT_STATUSES
    )


def read_causes(body: object) -> list[Mapping[str, Any]]:
    """``details.causes`` of a Kubernetes Status body (a JSON text), or [] when unreadable."""
    try:
        status = json.loads(body) if isinstance(body, str | bytes) else body
    except ValueError:
        return []
    details = status.get("details") if isinstance(status, Mapping) else None
    causes = details.get("causes") if isinstance(details, Mapping) else None
    return [x for x in causes if isinstance(x, Mapping)] if isinstance(causes, list) else []


def describe_refusal(exc: ApiException, kind: str, name: str) -> str:
    """``the API server refused Job x (422): <field>: <message>; ...`` from the Status causes."""
    causes = read_causes(exc.body)
    named = "; ".join(f"{x.get('field') or '?'}: {x.get('message') or ''}" for x in causes)
    text = named or str(exc.reason or "refused")
    return f"the API server refused {kind} {name} ({exc.status}): {text}"


def describe_write(intent: object) -> tuple[str, str]:
    """The kind and name a write intent targets (its manifest's, the deleted object's, else its
    type and version), for a refusal's message."""
    manifest = getattr(intent, "manifest", None)
    if isinstance(manifest, Mapping):
        meta = manifest.get("metadata")
        meta = meta if isinstance(meta, Mapping) else {}
        name = meta.get("name") or meta.get("generateName")
        return str(manifest.get("kind")), str(name)
    if isinstance(intent, DeleteDeployment):
        return "Deployment", intent.name
    if isinstance(intent, DeleteObject):
        return intent.kind, intent.name
    return type(intent).__name__, str(getattr(intent, "version", ""))


def describe_unexpected(exc: BaseException) -> str:
    """A one-line description of an unexpected error, for a condition message."""
    return f"reconcile failed, retrying with backoff: {type(exc).__name__}: {exc}"[:1000]


def plan_retry_delay(failures: int, base: float, cap: float = BACKOFF_CAP_SECONDS) -> float:
    """The wait after ``failures`` consecutive failures: ``base`` doubling, capped."""
    return float(min(base * 2 ** max(min(failures, 32) - 1, 0), cap))


@dataclass
class Backoff:
    """Per-object retry times for a loop: a failing object waits longer each time, alone."""

    base: float
    failures: dict[tuple[str, str], int] = field(default_factory=dict)
    not_before: dict[tuple[str, str], float] = field(default_factory=dict)

    def is_due(self, key: tuple[str, str], now: float) -> bool:
        """True when ``key`` may be tried at monotonic time ``now``."""
        return self.not_before.get(key, 0.0) <= now

    def record(self, key: tuple[str, str], ok: bool, now: float) -> None:
        """Forget a success; push a failure's next try back."""
        if ok:
            self.failures.pop(key, None)
            self.not_before.pop(key, None)
            return
        self.failures[key] = self.failures.get(key, 0) + 1
        self.not_before[key] = now + plan_retry_delay(self.failures[key], self.base)

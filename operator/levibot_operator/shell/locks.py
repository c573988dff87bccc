"""One asyncio lock per object, shared by every shell that writes that object.

Layer: shell. The ModelDeployment shell holds the lock of a ModelDeployment while it reconciles
it; the canary shell takes the same lock to record a promotion in that ModelDeployment's status,
so the two writers never interleave within this process.
"""

import asyncio
from dataclasses import dataclass, field


@dataclass
class ObjectLocks:
    """Locks keyed by (namespace, name), created on first use."""

    locks: dict[tuple[str, str], asyncio.Lock] = field(default_factory=dict)

    def lock_for(self, namespace: str, name: str) -> asyncio.Lock:
        """The lock serialising every write of one object."""
        return self.locks.setdefault((namespace, name), asyncio.Lock())

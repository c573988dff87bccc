"""A ModelDeployment's version history: the registry's every version, merged into status.

Layer: core (pure), in ``modeldeployment``. The registry is the truth about versions: whoever
trained one (the ModelDeployment's schedule, a Canary, a person with the trainer), it has a
status, a reason and metrics there. ``merge_version_history`` folds the registry's rows into
``status.versions`` (keeping what only the status knows: fingerprint and Job name), oldest first,
bounded to the newest ``limit`` with ``versions_omitted`` counting the rest, so
``kubectl levibot history`` (which reads only the status) shows every version.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from levibot_operator.core.modeldeployment.status import MDStatus, VersionRecord


@dataclass(frozen=True)
class RegistryEntry:
    """One registry row, without its model bytes."""

    version: str
    status: str
    reason: str = ""
    created: str = ""
    metrics: Mapping[str, Any] = field(default_factory=dict)


def build_history_key(record: VersionRecord) -> tuple[str, int, str]:
    """Oldest first: by creation time, then by the number in ``vN``."""
    digits = record.version[1:]
    return record.created, int(digits) if digits.isdigit() else 0, record.version


def merge_version_record(record: VersionRecord | None, entry: RegistryEntry) -> VersionRecord:
    """The registry's status, reason and metrics over what the status knew of one version."""
    if record is None:
        record = VersionRecord(entry.version, entry.created, {}, "", "", "")
    return replace(
        record,
        created=record.created or entry.created,
        metrics=dict(entry.metrics) or record.metrics,
        registry_status=entry.status,
        reason=entry.reason,
    )


def merge_version_history(
    status: MDStatus, entries: Iterable[RegistryEntry], limit: int
) -> MDStatus:
    """Every registered version in ``status.versions`` (newest ``limit``; the rest counted)."""
    known = {r.version: r for r in status.versions}
    for entry in entries:
        known[entry.version] = merge_version_record(known.get(entry.version), entry)
    ordered = sorted(known.values(), key=build_history_key)
    kept = ordered[-limit:] if limit > 0 else []
    return replace(status, versions=tuple(kept), versions_omitted=len(ordered) - len(kept))

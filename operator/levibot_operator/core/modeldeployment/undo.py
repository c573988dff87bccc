"""Undo: a ModelDeployment back to its previous stable version, at once (``--now``).

Layer: core (pure), in ``modeldeployment``. ``kubectl levibot undo <md>`` either opens a Canary
of the previous version (the plugin builds it from ``spec.canaryTemplate``) or, with ``--now``,
sets two annotations that ``decide_undo_now`` honours::

    levibot.io/undo: v3          # the version to go back to
    levibot.io/undo-now: "true"  # at once, without a canary

The previous stable version is the newest version the registry calls ``retired`` (it served as
stable and was replaced); after an undo, the one just left is retired, so undo twice toggles,
as ``kubectl argo rollouts undo`` does. ``status.handledUndo`` remembers the value acted on, so
an annotation left in place (or in Git) acts once; removing it clears the memory, so the same
version can be asked for again later. An undo is refused (spent, Warning Event) for an unknown
or rejected version, the version already stable, or while a Canary of the target is live (its
promotion would race the undo: abort it first). Once the target is stable again, the usual
plan serves it and retires the replaced Deployment when the restored one is available.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Final

from levibot_operator import constants as c
from levibot_operator.core.intents import (
    EVENT_NORMAL,
    EVENT_WARNING,
    EventIntent,
    SetRegistryStatus,
)
from levibot_operator.core.modeldeployment.spec import ModelDeployment, build_model_fingerprint
from levibot_operator.core.modeldeployment.status import MDStatus, VersionRecord
from levibot_operator.core.modeldeployment.training import parse_version_number

ANNOTATION_UNDO: Final = "levibot.io/undo"
ANNOTATION_UNDO_NOW: Final = "levibot.io/undo-now"
REASON_UNDONE: Final = "Undone"
REASON_UNDO_REFUSED: Final = "UndoRefused"


class UndoError(ValueError):
    """An undo that cannot be done, with the reason in words."""


@dataclass(frozen=True)
class UndoRequest:
    """The annotations: which version, and whether at once."""

    version: str
    now: bool


@dataclass(frozen=True)
class UndoDecision:
    status: MDStatus
    registry: tuple[SetRegistryStatus, ...] = ()
    events: tuple[EventIntent, ...] = ()


def parse_undo_request(annotations: Mapping[str, str] | None) -> UndoRequest | None:
    """The undo annotations, or None when ``levibot.io/undo`` is absent or empty."""
    notes = annotations or {}
    version = (notes.get(ANNOTATION_UNDO) or "").strip()
    if not version:
        return None
    return UndoRequest(version, notes.get(ANNOTATION_UNDO_NOW, "").lower() == "true")


def find_previous_stable(status: MDStatus) -> str | None:
    """The newest retired version (it was stable, then replaced), or None."""
    retired = [
        r
        for r in status.versions
        if r.registry_status == c.REGISTRY_RETIRED and r.version != status.stable_version
    ]
    newest = max(retired, key=lambda r: parse_version_number(r.version), default=None)
    return None if newest is None else newest.version


def plan_undo_target(status: MDStatus, requested: str | None) -> str:
    """The version an undo goes back to: ``requested`` (``--to``) or the previous stable."""
    if not status.stable_version:
        raise UndoError("nothing to undo: no stable version yet")
    version = requested or find_previous_stable(status)
    if version is None:
        raise UndoError("no previous stable version (no retired version in status.versions)")
    record = next((r for r in status.versions if r.version == version), None)
    if record is None:
        raise UndoError(f"{version} is not a version of this ModelDeployment")
    if version == status.stable_version:
        raise UndoError(f"{version} is already the stable version")
    if record.registry_status == c.REGISTRY_REJECTED:
        raise UndoError(f"{version} was rejected ({record.reason or 'no reason recorded'})")
    return version


def build_restored_record(record: VersionRecord, replaced: str) -> VersionRecord:
    return replace(record, registry_status=c.REGISTRY_ACTIVE, reason=f"restored over {replaced}")


def build_undone_status(md: ModelDeployment, status: MDStatus, version: str) -> MDStatus:
    """``version`` stable again; the spec's fingerprint stays the stable one (an undo is not a
    spec change, so it starts no retraining), as a promotion does."""
    versions = tuple(
        build_restored_record(r, status.stable_version) if r.version == version else r
        for r in status.versions
    )
    fingerprint = build_model_fingerprint(md.spec)
    return replace(
        status, stable_version=version, stable_fingerprint=fingerprint, versions=versions
    )


def decide_undo_now(
    md: ModelDeployment,
    status: MDStatus,
    request: UndoRequest | None,
    live_canaries: tuple[str, ...],
) -> UndoDecision:
    """Honour ``levibot.io/undo`` + ``undo-now: "true"`` once per value (module rules)."""
    if request is None:
        return UndoDecision(replace(status, handled_undo=""))
    if not request.now or request.version == status.handled_undo:
        return UndoDecision(status)
    spent = replace(status, handled_undo=request.version)
    try:
        if live_canaries:
            raise UndoError(f"Canary {', '.join(live_canaries)} is live: abort it first")
        version = plan_undo_target(status, request.version)
    except UndoError as error:
        message = f"undo to {request.version} refused: {error}"
        return UndoDecision(
            spent, events=(EventIntent(REASON_UNDO_REFUSED, message, EVENT_WARNING),)
        )
    old = status.stable_version
    message = f"undo: {version} stable again over {old}, at once"
    return UndoDecision(
        build_undone_status(md, spent, version),
        (SetRegistryStatus(version, c.REGISTRY_ACTIVE, f"restored over {old} by undo"),),
        (EventIntent(REASON_UNDONE, message, EVENT_NORMAL),),
    )

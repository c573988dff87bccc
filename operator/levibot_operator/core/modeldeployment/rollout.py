"""No version becomes stable ungated: the Canary that rolls out each version after the first.

Layer: core (pure), in ``modeldeployment``. The first version a ModelDeployment trains goes
straight to stable (there is nothing to compare it with). Every later version its own trainer
registers (a scheduled retrain, or a spec change) is rolled out by a Canary ``<md>-<version>``
built from ``spec.canaryTemplate``, owned by the ModelDeployment and labelled with its trigger.

Status is the memory: ``find_unrolled_version`` finds, in ``status.versions``, the newest
version trained by the ModelDeployment's own Job (it has a Job name) after the stable one that
the registry still calls a candidate (a canary that rolled it back made it rejected; one that
promoted it made it stable). While no Canary of the target is live, its Canary is created
(create-only, deterministic name), so a crash between the status write and the create, or a
repeated reconcile, converges on exactly one Canary.
"""

from typing import Any

from levibot_operator import constants as c
from levibot_operator.core.intents import CreateCanary
from levibot_operator.core.modeldeployment.canary_template import build_template_spec
from levibot_operator.core.modeldeployment.manifests import build_labels, build_metadata, build_name
from levibot_operator.core.modeldeployment.spec import ModelDeployment
from levibot_operator.core.modeldeployment.status import MDStatus, VersionRecord
from levibot_operator.core.modeldeployment.training import (
    TRIGGER_SCHEDULE,
    TRIGGER_SPEC,
    is_newer_than_stable,
    parse_version_number,
)


def find_unrolled_version(status: MDStatus) -> VersionRecord | None:
    """The newest own-trained candidate after the stable version, which a Canary must roll out."""
    if not status.stable_version:
        return None
    waiting = [
        r
        for r in status.versions
        if r.job_name
        and r.registry_status == c.REGISTRY_CANDIDATE
        and is_newer_than_stable(r, status)
    ]
    return max(waiting, key=lambda r: parse_version_number(r.version), default=None)


def describe_trigger(record: VersionRecord, status: MDStatus) -> str:
    """Why the version was trained: a spec change when its spec differs from the stable's."""
    if record.fingerprint and record.fingerprint != status.stable_fingerprint:
        return TRIGGER_SPEC
    return TRIGGER_SCHEDULE


def build_version_canary_name(md: ModelDeployment, version: str) -> str:
    """``<md>-<version>``: one Canary per version."""
    return build_name(md.name, version)


def build_version_canary(md: ModelDeployment, version: str, trigger: str) -> dict[str, Any]:
    """The Canary rolling ``version`` out with the template's spec for ``trigger``."""
    name = build_version_canary_name(md, version)
    labels = build_labels(md, "canary", **{c.LABEL_TRIGGER: trigger, c.LABEL_VERSION: version})
    spec = build_template_spec(md.spec.canary_template, trigger)
    return {
        "apiVersion": c.API_VERSION,
        "kind": c.CANARY_KIND,
        "metadata": build_metadata(md, name, labels),
        "spec": {"target": md.name, "candidate": {"version": version}, **spec},
    }


def plan_version_canary(
    md: ModelDeployment, status: MDStatus, live_canaries: tuple[str, ...]
) -> tuple[CreateCanary, ...]:
    """Create the Canary of the version waiting for one, unless a Canary of the target is live
    (at most one rollout at a time; the version waits for its turn)."""
    record = find_unrolled_version(status)
    if record is None or live_canaries:
        return ()
    trigger = describe_trigger(record, status)
    return (CreateCanary(build_version_canary(md, record.version, trigger)),)

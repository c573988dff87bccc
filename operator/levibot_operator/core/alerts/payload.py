"""Parse Alertmanager's webhook payload (version 4) into the canary alerts it carries.

Layer: core (pure). A firing alert labelled with ``namespace``, ``modeldeployment``, ``version``
and ``alertname`` targets a canary; other alerts are counted and ignored, resolved ones too.
Those labels end up in Kubernetes API paths, so a firing alert whose namespace, ModelDeployment
or version is not a Kubernetes name is skipped and reported (``AlertBatch.invalid``): no retry
could ever make it succeed. A payload that is not Alertmanager's (version 4) is a
``PayloadError`` naming the field.
"""

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

TARGET_LABELS = ("namespace", "modeldeployment", "version", "alertname")
_DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
# label -> (pattern, longest, what it must be): the API server's rules for namespaces and object
# names, and the Canary CRD's pattern for candidate versions.
NAME_RULES = {
    "namespace": (re.compile(_DNS_LABEL), 63, "a DNS-1123 label (a namespace name)"),
    "modeldeployment": (
        re.compile(rf"{_DNS_LABEL}(\.{_DNS_LABEL})*"),
        253,
        "a DNS-1123 subdomain (an object name)",
    ),
    "version": (re.compile(_DNS_LABEL), 63, "a model version (lower-case letters, digits, '-')"),
}


class PayloadError(ValueError):
    """A malformed webhook payload; ``field`` is the path, e.g. ``alerts[0].labels``."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True)
class AlertTarget:
    """A firing alert for one ModelDeployment version; ``key`` identifies one firing episode."""

    namespace: str
    modeldeployment: str
    version: str
    alertname: str
    fingerprint: str
    starts_at: str
    value: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.fingerprint, self.starts_at)


@dataclass(frozen=True)
class SkippedAlert:
    """A firing alert that can never be acted on; ``field`` is e.g. ``alerts[3].labels.version``."""

    field: str
    problem: str


@dataclass(frozen=True)
class AlertBatch:
    firing: tuple[AlertTarget, ...]
    ignored: int
    invalid: tuple[SkippedAlert, ...] = ()


def check_target_labels(labels: Mapping[str, str], field: str) -> SkippedAlert | None:
    """The first target label that is not a Kubernetes name, or None when all are."""
    for label, (pattern, longest, what) in NAME_RULES.items():
        value = labels[label]
        if len(value) > longest or not pattern.fullmatch(value):
            problem = f"must be {what} of at most {longest} characters (got {value[:80]!r})"
            return SkippedAlert(f"{field}.labels.{label}", problem)
    return None


def _strings(obj: Any, field: str) -> Mapping[str, str]:
    if not isinstance(obj, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in obj.items()
    ):
        raise PayloadError(field, "must be an object of strings")
    return obj


def _text(obj: Mapping[str, Any], key: str, field: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise PayloadError(f"{field}.{key}", "must be a non-empty string")
    return value


def _fingerprint(labels: Mapping[str, str]) -> str:
    text = "\x00".join(f"{k}={v}" for k, v in sorted(labels.items()))
    # JSON may carry lone surrogates ("\ud800"): hash them rather than fail to encode them
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def parse_alert(obj: Any, field: str) -> AlertTarget | SkippedAlert | None:
    """One alert; None when it is resolved or lacks a levibot label, ``SkippedAlert`` when a
    target label is not a Kubernetes name."""
    if not isinstance(obj, Mapping):
        raise PayloadError(field, "must be an object")
    status = _text(obj, "status", field)
    if status not in ("firing", "resolved"):
        raise PayloadError(f"{field}.status", f"must be firing or resolved (got {status!r})")
    labels = _strings(obj.get("labels"), f"{field}.labels")
    annotations = _strings(obj.get("annotations", {}), f"{field}.annotations")
    starts_at = _text(obj, "startsAt", field)
    if status != "firing" or not all(labels.get(k) for k in TARGET_LABELS):
        return None
    skipped = check_target_labels(labels, field)
    if skipped is not None:
        return skipped
    fingerprint = obj.get("fingerprint") or _fingerprint(labels)
    if not isinstance(fingerprint, str):
        raise PayloadError(f"{field}.fingerprint", "must be a string")
    return AlertTarget(
        namespace=labels["namespace"],
        modeldeployment=labels["modeldeployment"],
        version=labels["version"],
        alertname=labels["alertname"],
        fingerprint=fingerprint,
        starts_at=starts_at,
        value=annotations.get("value") or describe_annotations(annotations),
    )


def describe_annotations(annotations: Mapping[str, str]) -> str | None:
    """What crossed what, from the chart's annotations: the summary without its
    ``ns/md version (track): `` prefix (it names the threshold), then the description (it
    names the value): ``PSI drift on vol_1m above 4; Population stability index of vol_1m is
    4.410 against the training reference.``"""
    summary = annotations.get("summary", "").split(": ", 1)[-1].strip()
    parts = [p for p in (summary, annotations.get("description", "").strip()) if p]
    return "; ".join(parts) or None


def parse_alert_payload(body: Any) -> AlertBatch:
    """The whole payload: ``version`` "4" and a list of ``alerts``."""
    if not isinstance(body, Mapping):
        raise PayloadError("(body)", "must be a JSON object")
    if body.get("version") != "4":
        raise PayloadError("version", f'must be "4" (got {body.get("version")!r})')
    alerts = body.get("alerts")
    if not isinstance(alerts, list):
        raise PayloadError("alerts", "must be a list")
    parsed = [parse_alert(a, f"alerts[{i}]") for i, a in enumerate(alerts)]
    firing = tuple(a for a in parsed if isinstance(a, AlertTarget))
    invalid = tuple(a for a in parsed if isinstance(a, SkippedAlert))
    ignored = len(parsed) - len(firing) - len(invalid)
    return AlertBatch(firing=firing, ignored=ignored, invalid=invalid)

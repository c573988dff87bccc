"""The version history merges every registry version into status (core, pure)."""

from __future__ import annotations

from levibot_operator.core.modeldeployment.history import RegistryEntry, merge_version_history
from levibot_operator.core.modeldeployment.status import (
    MDStatus,
    VersionRecord,
    build_status_json,
    parse_md_status,
)


def own(version: str, created: str) -> VersionRecord:
    """A version the ModelDeployment trained itself (it knows its fingerprint and Job)."""
    return VersionRecord(version, created, {"ece": 0.04}, "active", "fp1", f"md-train-{version}-1")


def test_versions_trained_elsewhere_join_with_their_status_reason_and_metrics() -> None:
    status = MDStatus(stable_version="v1", versions=(own("v1", "2026-11-20T00:00:00Z"),))
    entries = [
        RegistryEntry("v1", "active", "stable", "2026-11-20T00:00:00Z", {"ece": 0.041}),
        RegistryEntry(
            "v2", "rejected", "ece=0.12 (threshold <= 0.06)", "2026-11-21T00:00:00Z", {"ece": 0.12}
        ),
        RegistryEntry("v3", "candidate", "", "2026-11-22T00:00:00Z", {}),
    ]
    merged = merge_version_history(status, entries, limit=20)
    assert [(v.version, v.registry_status, v.reason) for v in merged.versions] == [
        ("v1", "active", "stable"),
        ("v2", "rejected", "ece=0.12 (threshold <= 0.06)"),
        ("v3", "candidate", ""),
    ]
    assert merged.versions[0].job_name == "md-train-v1-1"  # what only the status knew stays
    assert merged.versions[0].metrics == {"ece": 0.041}
    assert merged.versions[1].metrics == {"ece": 0.12}
    assert merged.versions_omitted == 0


def test_the_history_is_bounded_to_the_newest_and_counts_the_rest() -> None:
    entries = [
        RegistryEntry(f"v{n}", "retired", "", f"2026-11-{n:02d}T00:00:00Z") for n in range(1, 26)
    ]
    merged = merge_version_history(MDStatus(), entries, limit=20)
    assert [v.version for v in merged.versions] == [f"v{n}" for n in range(6, 26)]
    assert merged.versions_omitted == 5


def test_reason_and_omitted_count_survive_the_status_round_trip() -> None:
    entries = [RegistryEntry("v2", "rejected", "canary deleted", "2026-11-21T00:00:00Z")]
    merged = merge_version_history(MDStatus(versions=(own("v1", "2026-11-20T00:00:00Z"),)),
                                   entries, limit=1)  # fmt: skip
    body = build_status_json(merged)
    assert body["versionsOmitted"] == 1
    assert body["versions"][0]["reason"] == "canary deleted"
    assert parse_md_status(body) == merged

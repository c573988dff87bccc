"""``kubectl levibot`` status/history drift blocks (issue 14, 4): the normalised drift score of
every version and feature, marked above 1, and the drift loop's state."""

from typing import Any

from levibot_operator.cli import drift


def body() -> dict[str, Any]:
    versions = [
        {"version": "v1", "registryStatus": "retired", "driftScores": {"vol_1m": 3.1}},
        {"version": "v2", "registryStatus": "active",
         "driftScores": {"vol_1m": 2.314, "ret_1m": 0.4}},
        {"version": "v3", "registryStatus": "candidate", "driftScores": {"vol_1m": 0.52}},
    ]  # fmt: skip
    loop = {
        "version": "v2", "since": "2026-11-21T12:00:00Z", "alerts": ["LevibotFeatureDriftScore"],
        "attempts": 1, "canary": "btc-drift-1", "openedAt": "2026-11-21T13:00:00Z",
        "waiting": "canary btc-drift-1 is live; one rollout at a time",
    }  # fmt: skip
    status = {"stableVersion": "v2", "versions": versions, "drift": loop}
    return {"metadata": {"name": "btc"}, "status": status}


def test_history_shows_every_scored_version_and_the_loop() -> None:
    text = drift.format_drift(body())
    assert "DRIFT ret_1m" in text
    assert "DRIFT vol_1m" in text
    assert "v2 *" in text
    assert "2.31!" in text
    assert "0.40" in text
    assert "v1" in text
    assert "3.10!" in text
    assert "v2 drifting since 2026-11-21T12:00:00Z (LevibotFeatureDriftScore)" in text
    assert "1 opened; last btc-drift-1" in text
    assert "waits: canary btc-drift-1 is live" in text
    assert drift.format_drift({"metadata": {"name": "x"}}) == ""


def test_status_shows_the_serving_versions_per_modeldeployment() -> None:
    text = drift.format_drift_overview([body(), {"metadata": {"name": "quiet"}}])
    assert "btc:" in text
    assert "quiet" not in text
    assert "v3" in text
    assert "0.52" in text
    assert "3.10" not in text  # the retired v1 is history, not status

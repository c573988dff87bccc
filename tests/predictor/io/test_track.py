"""The predictor's track follows the stable-version file (zero-restart promotion)."""

from __future__ import annotations

from pathlib import Path

import pytest

from levibot_predictor.io.track import TrackFile, decide_track


@pytest.mark.parametrize(
    ("stable", "initial", "expected"),
    [
        ("v2", "canary", "stable"),  # promoted: the file names this version
        ("v1", "stable", "canary"),  # another version is stable: this one is the candidate
        ("", "stable", "stable"),  # no stable version written yet: the configured track
        ("", "canary", "canary"),
    ],
)
def test_decide_track(stable: str, initial: str, expected: str) -> None:
    assert decide_track("v2", stable, initial) == expected


def test_the_track_follows_the_file_and_tells_its_listeners(tmp_path: Path) -> None:
    path = tmp_path / "stableVersion"
    path.write_text("v1")
    track = TrackFile("v2", "stable", path)
    assert track.current == "canary"  # read at once, before anything is labelled
    seen: list[str] = []
    track.subscribe(seen.append)
    assert track.poll() is False  # unchanged file: one stat, no read
    path.write_text("v2\n")
    assert track.poll() is True
    assert (track.current, seen) == ("stable", ["stable"])
    path.unlink()
    assert track.poll() is False  # back to the configured track, which it already is
    assert track.current == "stable"


def test_without_a_path_the_configured_track_holds() -> None:
    track = TrackFile("v2", "canary", None)
    assert (track.poll(), track.current) == (False, "canary")

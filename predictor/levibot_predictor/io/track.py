"""The predictor's traffic track (predictor I/O): derived, live, from the stable version file.

Promotion must restart no pod, so the track is not in the pod template (KServe moves the name,
not the pods). The operator writes the ModelDeployment's stable version into the serving
ConfigMap, mounted as a file; this predictor is ``stable`` when the file names its own version
and ``canary`` otherwise. ``poll`` costs one ``stat`` per tick and reads the file only when it
changed. Without a path, or while the file is missing or empty, the configured track holds.
On a change every listener is called with the new track (metrics, answers and the prediction
log are re-labelled), so the new track is reported within a tick of the file's update.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from levibot_predictor.io.watched import WatchedFile

log = logging.getLogger(__name__)
STABLE = "stable"
CANARY = "canary"


def decide_track(version: str, stable_version: str, initial: str) -> str:
    """``stable`` when the stable version is ours, ``canary`` when it is another, else initial."""
    if not stable_version:
        return initial
    return STABLE if stable_version == version else CANARY


class TrackFile:
    """The current track of one version; ``poll()`` follows the watched stable-version file."""

    def __init__(self, version: str, initial: str, path: Path | None) -> None:
        self.version = version
        self.initial = initial
        self.current = initial
        self._file = None if path is None else WatchedFile(path, "stable-version")
        self._listeners: list[Callable[[str], None]] = []
        self.poll()

    def subscribe(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(track)`` after every change."""
        self._listeners.append(listener)

    def poll(self) -> bool:
        """Re-read the file if it changed; return whether the track changed."""
        change = None if self._file is None else self._file.poll()
        if change is None:
            return False
        stable_version = (change.text or "").strip()
        return self._set(decide_track(self.version, stable_version, self.initial))

    def _set(self, track: str) -> bool:
        if track == self.current:
            return False
        log.info("version %s now serves as %s (was %s)", self.version, track, self.current)
        self.current = track
        for listener in self._listeners:
            listener(track)
        return True

"""Kill-switch (predictor I/O): initial state from settings, then a watched file (a ConfigMap).

``poll`` is cheap — one ``stat`` — and only reads the file when its mtime (or size) changed.
A missing file means "back to the initial state". The state is read on every request.
"""

from __future__ import annotations

import logging
from pathlib import Path

from levibot_predictor.core.policy import parse_kill_switch_text
from levibot_predictor.io.watched import WatchedFile

log = logging.getLogger(__name__)


class KillSwitch:
    """Current kill-switch state; ``poll()`` refreshes it from the watched file."""

    def __init__(self, initial: bool, path: Path | None) -> None:
        self.initial = initial
        self.on = initial
        self._file = None if path is None else WatchedFile(path, "kill-switch")

    def poll(self) -> bool:
        """Re-read the file if it changed; return whether the state changed."""
        change = None if self._file is None else self._file.poll()
        if change is None:
            return False
        text = change.text
        return self._set(self.initial if text is None else parse_kill_switch_text(text))

    def _set(self, on: bool) -> bool:
        changed = on != self.on
        if changed:
            log.warning("kill-switch %s", "ON" if on else "off")
        self.on = on
        return changed

"""Kill-switch (predictor I/O): initial state from settings, then a watched file (a ConfigMap).

``poll`` is cheap — one ``stat`` — and only reads the file when its mtime (or size) changed.
A missing file means "back to the initial state". The state is read on every request.
"""

from __future__ import annotations

import logging
from pathlib import Path

from levibot_predictor.core.policy import parse_kill_switch_text

log = logging.getLogger(__name__)


class KillSwitch:
    """Current kill-switch state; ``poll()`` refreshes it from the watched file."""

    def __init__(self, initial: bool, path: Path | None) -> None:
        self.initial = initial
        self.on = initial
        self._path = path
        self._seen: tuple[int, int] | None = None

    def poll(self) -> bool:
        """Re-read the file if it changed; return whether the state changed."""
        if self._path is None:
            return False
        try:
            stat = self._path.stat()
        except FileNotFoundError:
            return self._set(self.initial, None)
        mark = (stat.st_mtime_ns, stat.st_size)
        if mark == self._seen:
            return False
        try:
            text = self._path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            log.warning("kill-switch file %s unreadable: %s", self._path, exc)
            return False
        return self._set(parse_kill_switch_text(text), mark)

    def _set(self, on: bool, mark: tuple[int, int] | None) -> bool:
        self._seen = mark
        changed = on != self.on
        if changed:
            log.warning("kill-switch %s", "ON" if on else "off")
        self.on = on
        return changed

"""A watched file (predictor I/O): a mounted ConfigMap key followed by one ``stat`` per poll.

The kill-switch and the traffic track both follow such a file. ``poll`` reads the file only when
its mtime (or size) changed since the last read; a missing file is reported on every poll (its
readers fall back to their initial state, which is idempotent); an unreadable one is logged and
tried again on the next poll.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileChange:
    """What a poll found: the file's new text, or None when the file is missing."""

    text: str | None


class WatchedFile:
    """One file's last seen (mtime, size); ``poll()`` says what changed since."""

    def __init__(self, path: Path, what: str) -> None:
        self._path = path
        self._what = what  # names the file in the log
        self._seen: tuple[int, int] | None = None

    def poll(self) -> FileChange | None:
        """The change since the last poll; None when nothing changed or the file is unreadable."""
        try:
            stat = self._path.stat()
        except FileNotFoundError:
            self._seen = None
            return FileChange(None)
        mark = (stat.st_mtime_ns, stat.st_size)
        if mark == self._seen:
            return None
        try:
            text = self._path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            log.warning("%s file %s unreadable: %s", self._what, self._path, exc)
            return None
        self._seen = mark
        return FileChange(text)

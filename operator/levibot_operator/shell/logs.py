"""The operator's log lines: one JSON object a line (for log pipelines) or plain text.

Layer: shell. Every line about an object carries its ``namespace`` and ``name``: kopf's
per-object loggers put them in ``extra={"k8s_ref": {...}}``; our own shells bind the object
they work on with ``bound_object`` (a context variable, so concurrent reconciles of different
objects never mix), and ``ObjectFilter`` copies either onto the record.
"""

import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TextIO

CURRENT_OBJECT: contextvars.ContextVar[tuple[str, str, str] | None] = contextvars.ContextVar(
    "levibot_current_object", default=None
)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(object)s%(message)s"


@contextmanager
def bound_object(kind: str, namespace: str, name: str) -> Iterator[None]:
    """Lines logged inside (in this task) are about ``kind`` ``namespace/name``."""
    token = CURRENT_OBJECT.set((kind, namespace, name))
    try:
        yield
    finally:
        CURRENT_OBJECT.reset(token)


def find_object(record: logging.LogRecord) -> tuple[str, str, str] | None:
    """(kind, namespace, name) of the object a record is about: kopf's ref, else ours."""
    ref = getattr(record, "k8s_ref", None)
    if isinstance(ref, dict) and ref.get("name"):
        return str(ref.get("kind") or ""), str(ref.get("namespace") or ""), str(ref["name"])
    return CURRENT_OBJECT.get()


class ObjectFilter(logging.Filter):
    """Adds the text prefix ``object`` (``[namespace/name] ``, or empty) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        _, namespace, name = find_object(record) or ("", "", "")
        record.object = f"[{namespace}/{name}] " if namespace else (f"[{name}] " if name else "")
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the object, and any exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        found = find_object(record)
        if found is not None:
            line["kind"], line["namespace"], line["name"] = found
            if not line["kind"]:
                del line["kind"]
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def is_json_format(log_format: str, stream: TextIO) -> bool:
    """``json`` or ``text`` as set; ``auto`` is text on a terminal, JSON otherwise."""
    if log_format == "auto":
        return not stream.isatty()
    return log_format == "json"


def configure_logging(log_format: str, stream: TextIO = sys.stderr) -> logging.Handler:
    """Replace the root handlers with one on ``stream`` in the chosen format."""
    handler = logging.StreamHandler(stream)
    handler.addFilter(ObjectFilter())
    json_lines = is_json_format(log_format, stream)
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return handler

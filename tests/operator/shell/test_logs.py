"""Operator log lines: JSON with the object's namespace and name (kopf's per-object logger and
our own shells alike), text with a ``[namespace/name]`` prefix, auto by terminal."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from kopf._core.actions.loggers import ObjectLogger

from levibot_operator.shell.logs import bound_object, configure_logging, is_json_format

BODY = {
    "apiVersion": "levibot.io/v1alpha1",
    "kind": "Canary",
    "metadata": {"namespace": "team-a", "name": "btc-v2", "uid": "u1"},
}


@pytest.fixture
def root() -> Iterator[None]:
    logger = logging.getLogger()
    handlers, level = list(logger.handlers), logger.level
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)


def test_a_line_from_kopfs_object_logger_is_json_with_namespace_and_name(root: None) -> None:
    out = io.StringIO()
    configure_logging("json", out)
    ObjectLogger(body=BODY, settings=None).info("handler %s succeeded", "canary_update")  # type: ignore[arg-type]
    line = json.loads(out.getvalue())
    assert (line["namespace"], line["name"], line["kind"]) == ("team-a", "btc-v2", "Canary")
    assert (line["level"], line["message"]) == ("info", "handler canary_update succeeded")


def test_our_shell_lines_carry_the_object_they_are_bound_to(root: None) -> None:
    out = io.StringIO()
    configure_logging("json", out)
    with bound_object("Canary", "team-a", "btc-v2"):
        logging.getLogger("levibot_operator.shell.canary").warning("write refused")
    logging.getLogger("levibot_operator").info("not about an object")
    about, other = (json.loads(x) for x in out.getvalue().splitlines())
    assert (about["namespace"], about["name"], about["message"]) == (
        "team-a",
        "btc-v2",
        "write refused",
    )
    assert "namespace" not in other


def test_text_lines_are_prefixed_with_the_object(root: None) -> None:
    out = io.StringIO()
    configure_logging("text", out)
    with bound_object("Canary", "team-a", "btc-v2"):
        logging.getLogger("levibot_operator").info("hello")
    assert out.getvalue().rstrip().endswith("INFO levibot_operator [team-a/btc-v2] hello")


def test_auto_is_text_on_a_terminal_and_json_otherwise() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert not is_json_format("auto", Tty())
    assert is_json_format("auto", io.StringIO())
    assert not is_json_format("text", io.StringIO())

"""What a failed trainer Job said, in the words of the ModelDeployment spec.

Layer: core (pure). The trainer writes its result document (``status``, ``exitCode``, ``reason``,
``message``; see docs/contracts.md) to the termination log, so the Job's pod carries it in
``state.terminated.message``. Its message names a trainer setting (``hyperparameters.C: ...``);
the user wrote ``spec.model.hyperparameters.C``, so that is the name status shows.
"""

import json
from collections.abc import Iterable, Mapping
from typing import Any

# The trainer's settings that come from the spec (workloads.build_trainer_env), by spec path.
SPEC_FIELDS = {
    "hyperparameters": "spec.model.hyperparameters",
    "model_type": "spec.model.type",
    "calibration": "spec.model.calibration",
    "features": "spec.features",
    "symbols": "spec.symbols",
    "horizon_seconds": "spec.horizonSeconds",
    "data_window_seconds": "spec.training.dataWindowSeconds",
    "buy_threshold": "spec.serving.buyThreshold",
    "sell_threshold": "spec.serving.sellThreshold",
    "fee_bps": "spec.trading.feeBps",
    "slippage_bps": "spec.trading.slippageBps",
}


def _terminations(pod: Mapping[str, Any]) -> list[str]:
    statuses = (pod.get("status") or {}).get("containerStatuses") or ()
    found = []
    for container in statuses:
        for key in ("state", "lastState"):
            message = ((container.get(key) or {}).get("terminated") or {}).get("message")
            if isinstance(message, str) and message.strip():
                found.append(message)
    return found


def read_result(text: str) -> Mapping[str, Any] | None:
    """A result document from a termination message (the whole text, or its last line when
    the kubelet fell back to the logs); None when it is not one."""
    for candidate in (text, text.strip().rsplit("\n", 1)[-1]):
        try:
            document = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(document, Mapping) and isinstance(document.get("message"), str):
            return document
    return None


def parse_trainer_result(pods: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The result document of the newest trainer pod that left one."""
    newest = sorted(pods, key=lambda p: str(p.get("metadata", {}).get("creationTimestamp", "")))
    for pod in reversed(newest):
        for message in _terminations(pod):
            if (document := read_result(message)) is not None:
                return document
    return None


def name_spec_field(message: str) -> str:
    """``hyperparameters.C: ...`` -> ``spec.model.hyperparameters.C: ...``; others unchanged."""
    head, sep, rest = message.partition(":")
    setting, dot, key = head.partition(".")
    if not sep or setting not in SPEC_FIELDS:
        return message
    return f"{SPEC_FIELDS[setting]}{dot}{key}{sep}{rest}"


def describe_trainer_result(result: Mapping[str, Any]) -> str:
    """One line for a condition and an Event: the field, the trainer's words, its exit code."""
    message = name_spec_field(str(result.get("message", "")))
    reason, code = result.get("reason", "error"), result.get("exitCode", "?")
    return f"{message} (trainer: {reason}, exit code {code})"[:1000]

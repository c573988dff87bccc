"""The trainer's command line (trainer entry layer): ``train``, ``seed-data``, ``schema``.

``train`` builds ``TrainerSettings`` from env (``LEVIBOT_TRAINER_*``) with flags on top
(``--model-name``, ``--symbols '["BTCUSDT"]'``, ...: one flag per settings field, JSON for lists
and objects), runs the pipeline, prints the result document and writes it to ``result_path``,
and exits with the code of docs/contracts.md. Errors are translated here, once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from levibot_common import schema
from levibot_common.seed import cli as seed_cli
from levibot_trainer.errors import BadConfigError, TrainerError
from levibot_trainer.pipeline import StageTimer, run_training
from levibot_trainer.report import build_failure
from levibot_trainer.settings import TrainerSettings

EXIT_INTERNAL = 1
_JSON_FIELDS = {"hyperparameters", "features", "symbols"}


def build_train_parser() -> argparse.ArgumentParser:
    """One optional flag per settings field; absent flags leave env and defaults in force."""
    parser = argparse.ArgumentParser(
        prog="python -m levibot_trainer train",
        description="Train a model on market data and register it (env: LEVIBOT_TRAINER_*).",
        argument_default=argparse.SUPPRESS,
    )
    for name, info in TrainerSettings.model_fields.items():
        hint = " (JSON)" if name in _JSON_FIELDS else ""
        text = f"{info.description}{hint}".replace("%", "%%")  # argparse %-formats help
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, help=text)
    return parser


def parse_overrides(flags: Mapping[str, str]) -> dict[str, Any]:
    """Flag values as settings input (JSON decoded where the field is a list or an object)."""
    overrides: dict[str, Any] = {}
    for name, text in flags.items():
        if name not in _JSON_FIELDS:
            overrides[name] = text
            continue
        try:
            overrides[name] = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadConfigError(f"{name}: not valid JSON: {exc.msg}") from exc
    return overrides


def build_settings(overrides: Mapping[str, Any]) -> TrainerSettings:
    """Settings from env + overrides; ``BadConfigError`` naming every bad field."""
    try:
        return TrainerSettings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
            for err in exc.errors(include_url=False)
        )
        raise BadConfigError(f"settings: {problems}") from None


def apply_result(document: Mapping[str, Any], path: Path) -> None:
    """Print the result and write it to ``path`` (a warning if that path cannot be written)."""
    text = json.dumps(document, sort_keys=True)
    print(text)
    try:
        path.write_text(text + "\n")
    except OSError as exc:
        print(f"train: could not write result to {path}: {exc}", file=sys.stderr)


def _fallback_result_path(flags: Mapping[str, str]) -> Path:
    raw = flags.get("result_path") or os.environ.get("LEVIBOT_TRAINER_RESULT_PATH")
    return Path(raw or "/dev/termination-log")


def run_train(argv: Sequence[str]) -> int:
    """The ``train`` command."""
    flags: dict[str, str] = vars(build_train_parser().parse_args(argv))
    settings: TrainerSettings | None = None
    try:
        settings = build_settings(parse_overrides(flags))
        timer = StageTimer(time.perf_counter)
        document = asyncio.run(run_training(settings, datetime.now(UTC), asyncio.sleep, timer))
        code = 0
    except TrainerError as exc:
        print(f"train: {exc.reason}: {exc}", file=sys.stderr)
        name = settings.model_name if settings else flags.get("model_name")
        version = settings.version if settings else flags.get("version")
        document, code = build_failure(exc, name, version), exc.exit_code
    except Exception as exc:  # the last resort: still report, never a bare traceback only
        traceback.print_exc()
        document = {"status": "error", "exitCode": EXIT_INTERNAL, "reason": "internal",
                    "message": f"{type(exc).__name__}: {exc}"[:2000]}  # fmt: skip
        code = EXIT_INTERNAL
    path = settings.result_path if settings else _fallback_result_path(flags)
    apply_result(document, path)
    return code


def run_seed_data(argv: Sequence[str]) -> int:
    """The ``seed-data`` command (shared with ``python -m levibot_common.seed``)."""
    return seed_cli.main(argv, prog="python -m levibot_trainer seed-data")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m levibot_trainer {train,seed-data,schema} ...``; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    commands: dict[str, Callable[[list[str]], int]] = {
        "train": run_train,
        "seed-data": run_seed_data,
        "schema": schema.main,
    }
    if not args or args[0] not in commands:
        print(f"usage: python -m levibot_trainer {{{','.join(commands)}}} ...", file=sys.stderr)
        return 2
    return int(commands[args[0]](args[1:]))

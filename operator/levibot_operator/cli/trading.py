"""``kubectl levibot``'s paper trading and circuit breakers: the views for ``status`` and
``history``, and the ``reset-breaker`` command.

Layer: CLI. The views are pure functions of a ModelDeployment body (``status.paperTrading`` and
``status.circuitBreaker``, written by the operator). ``reset-breaker`` sets the
``levibot.io/reset-breaker`` annotation to a fresh token; the operator acts on each token once.
These are paper results, not advice.
"""

import argparse
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TextIO

from levibot_operator import constants as c
from levibot_operator.cli.view import format_number, format_table
from levibot_operator.core.modeldeployment.status import parse_md_status

Json = Mapping[str, Any]
Fetch = Callable[..., dict[str, Any]]
RESET_COMMAND = "reset-breaker"
WAIT_POLL_SECONDS = 0.5
PAPER_HEADER = ("VERSION", "TRACK", "WINDOW", "TRADES", "WIN RATE (95%)", "PNL", "SHARPE", "MAXDD")


def format_percent(value: object) -> str:
    """A fraction as a percentage, ``-`` when absent."""
    return f"{value:.1%}" if isinstance(value, int | float) else "-"


def build_paper_row(row: Json) -> tuple[str, ...]:
    """One version and window of ``status.paperTrading.results``."""
    low, high = row.get("winRateLow"), row.get("winRateHigh")
    interval = f" [{format_percent(low)}, {format_percent(high)}]" if low is not None else ""
    return (
        str(row.get("version", "")), str(row.get("track", "")), str(row.get("window", "")),
        str(row.get("trades", 0)), format_percent(row.get("winRate")) + interval,
        format_percent(row.get("pnl")), format_number(row.get("sharpe")),
        format_percent(row.get("maxDrawdown")),
    )  # fmt: skip


def format_breaker(obj: Json) -> list[str]:
    """The breaker's state and readings (nothing when the ModelDeployment has none)."""
    status = parse_md_status(obj.get("status"))
    breaker = status.circuit_breaker
    if not breaker.version:
        return []
    if breaker.tripped:
        head = f"  circuit breaker  TRIPPED ({breaker.breaker}) on {breaker.version} at "
        head += f"{breaker.tripped_at}: {breaker.message}; every answer is HOLD"
    else:
        head = f"  circuit breaker  closed on {breaker.version} (judged since {breaker.since})"
    return [head, *(f"    {r.get('message', '')}" for r in breaker.readings)]


def format_paper(obj: Json) -> str:
    """A ModelDeployment's paper results and breaker, as a block (empty when there are none)."""
    paper = parse_md_status(obj.get("status")).paper_trading
    rows = [build_paper_row(r) for r in paper.get("results") or ()]
    lines = format_breaker(obj)
    if rows:
        name = (obj.get("metadata") or {}).get("name", "")
        lines += [
            f"  paper trading of {name} at {paper.get('at', '')} (paper results, not advice)",
            format_table(PAPER_HEADER, rows, "  "),
        ]
    return "\n" + "\n".join(lines) if lines else ""


def format_paper_overview(deployments: Sequence[Json]) -> str:
    """The paper block of every ModelDeployment that has one."""
    return "".join(format_paper(o) for o in deployments)


def add_reset_parser(
    sub: Any, common: argparse.ArgumentParser, parse_name: Callable[[str], str]
) -> None:
    """The ``reset-breaker`` subcommand."""
    reset = sub.add_parser(RESET_COMMAND, parents=[common], help="close a tripped breaker")
    reset.add_argument("modeldeployment", type=parse_name)
    reset.add_argument("--wait", type=float, default=5.0, help="seconds to await the reset")


def run_reset_breaker(
    fetch: Fetch, args: argparse.Namespace, token: str, sleep: Callable[[float], None], out: TextIO
) -> int:
    """Annotate the ModelDeployment with a fresh token, then report its breaker (waiting up to
    ``--wait`` seconds for the operator to act on it)."""
    name = args.modeldeployment
    before = parse_md_status(fetch("get", c.MODELDEPLOYMENT_PLURAL, name).get("status"))
    if not before.circuit_breaker.tripped:
        print(f"{name}: no tripped circuit breaker (a reset restarts its judgement)", file=out)
    after = fetch(
        "annotate", c.MODELDEPLOYMENT_PLURAL, name, "--overwrite",
        f"{c.ANNOTATION_RESET_BREAKER}={token}",
    )  # fmt: skip
    for _ in range(int(args.wait / WAIT_POLL_SECONDS)):
        if parse_md_status(after.get("status")).circuit_breaker.handled_reset == token:
            break
        sleep(WAIT_POLL_SECONDS)
        after = fetch("get", c.MODELDEPLOYMENT_PLURAL, name)
    state = parse_md_status(after.get("status")).circuit_breaker
    done = "done" if state.handled_reset == token else "requested (not acted on yet)"
    print(f"reset-breaker {name}: {done}; breaker {state.state.lower()}", file=out)
    return 0

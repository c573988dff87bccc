"""The ``seed-data`` command (shared shell): parse flags, then load history and optionally go live.

Used by ``python -m levibot_common.seed`` and ``python -m levibot_trainer seed-data``.
Exit codes follow the trainer's: 0 ok, 2 bad arguments, 4 database unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import asyncpg

from levibot_common.schema import DatabaseSettings, apply_schema
from levibot_common.seed.generator import DEFAULT_SIGNAL, SeedSpec, build_seed_specs
from levibot_common.seed.loader import load_history, run_live

EXIT_OK, EXIT_BAD_CONFIG, EXIT_UNREACHABLE = 0, 2, 4


# A COPY cut by a server restart can leave asyncpg's protocol in a state it reports as an
# InternalClientError ("cannot switch to state 21; another operation is in progress") instead of
# a lost connection: the e2e stack's database restart killed the feed that way once.
CUT_COPY = asyncpg.exceptions.InternalClientError


@dataclass(frozen=True)
class SeedCommand:
    """A parsed ``seed-data`` invocation."""

    dsn: str
    symbols: tuple[str, ...]
    seconds: int
    end_epoch: float
    template: SeedSpec
    live: bool
    live_seconds: float | None


def build_parser(prog: str) -> argparse.ArgumentParser:
    """The argument parser of ``seed-data``."""
    parser = argparse.ArgumentParser(prog=prog, description="Load synthetic market ticks.")
    parser.add_argument("--dsn", help="PostgreSQL DSN (default: env LEVIBOT_DSN)")
    parser.add_argument("--symbols", default="BTCUSDT,ETHUSDT", help="comma-separated symbols")
    parser.add_argument("--hours", type=float, default=6.0, help="history to load, ending at --end")
    parser.add_argument("--seed", type=int, default=0, help="random seed (same seed, same ticks)")
    parser.add_argument("--end", help="end of the history, ISO 8601 with zone (default: now)")
    parser.add_argument("--ticks-per-second", type=float, default=2.0, help="Poisson tick rate")
    parser.add_argument("--signal", type=float, default=DEFAULT_SIGNAL, help="momentum strength")
    parser.add_argument(
        "--regime-seconds", type=float, default=1800.0,
        help="mean length of a volatility regime; 0 = constant volatility",
    )  # fmt: skip
    parser.add_argument("--drift-from", help="ISO 8601 time from which the distribution shifts")
    parser.add_argument("--live", action="store_true", help="keep appending ticks in real time")
    parser.add_argument("--live-seconds", type=float, help="stop live mode after this long")
    return parser


def parse_time(field: str, text: str) -> float:
    """Epoch seconds of an ISO 8601 time with a zone; ``ValueError`` naming the field."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{field}: not an ISO 8601 time: {text!r}") from exc
    if moment.tzinfo is None:
        raise ValueError(f"{field}: needs a time zone (e.g. +00:00): {text!r}")
    return moment.timestamp()


def parse_seed_command(args: argparse.Namespace, env_dsn: str | None, now: float) -> SeedCommand:
    """Validate the flags into a ``SeedCommand``; ``ValueError`` names the bad flag."""
    dsn = args.dsn or env_dsn
    if not dsn:
        raise ValueError("dsn: required (--dsn or LEVIBOT_DSN)")
    symbols = tuple(s.strip() for s in args.symbols.split(",") if s.strip())
    if not symbols:
        raise ValueError("symbols: at least one symbol is required")
    if not (args.hours > 0 or (args.live and args.hours == 0)):
        raise ValueError(f"hours: must be positive (0 only with --live), got {args.hours}")
    end = parse_time("end", args.end) if args.end else now
    drift = parse_time("drift-from", args.drift_from) if args.drift_from else None
    template = SeedSpec(
        symbols[0], 0.0, 1, args.seed, ticks_per_second=args.ticks_per_second,
        signal=args.signal, drift_from_epoch=drift, regime_seconds=args.regime_seconds,
    )  # fmt: skip
    seconds = int(args.hours * 3600)
    return SeedCommand(dsn, symbols, seconds, end, template, args.live, args.live_seconds)


async def apply_seed_command(command: SeedCommand) -> str:
    """Apply the schema, load the history, then run live if asked; returns a summary line."""
    conn = await asyncpg.connect(command.dsn, timeout=10)
    try:
        await apply_schema(conn)
        specs = build_seed_specs(  # live-only (0 s of history) still needs one-second specs
            command.symbols, command.end_epoch, max(command.seconds, 1), command.template.seed,
            command.template,
        )  # fmt: skip
        loaded = await load_history(conn, specs) if command.seconds else None
        count = loaded.total if loaded else 0
        summary = f"seed-data: {count} ticks for {', '.join(command.symbols)}"
    finally:
        await conn.close()
    if command.live:
        live = await run_live_resilient(command, specs)
        summary += f"; live: {live} ticks"
    return summary


async def run_live_resilient(command: SeedCommand, specs: list[SeedSpec]) -> int:
    """The live feed, reconnecting when the database goes away (like a real feed: the
    seconds of the outage are a gap, so staleness shows it); returns the ticks written since
    the last (re)connection."""
    began, start, delay = time.time(), command.end_epoch, 0.5
    while command.live_seconds is None or time.time() - began < command.live_seconds:
        left = (
            None if command.live_seconds is None else command.live_seconds - (time.time() - began)
        )
        try:
            conn = await asyncpg.connect(command.dsn, timeout=5)
            try:
                live_specs = [replace(s, start_epoch=start) for s in specs]
                report = await run_live(conn, live_specs, time.time, asyncio.sleep, left)
                return report.total
            finally:
                await conn.close()
        except (
            OSError,
            asyncpg.PostgresError,
            asyncpg.InterfaceError,
            CUT_COPY,
            TimeoutError,
        ) as exc:
            print(f"seed-data: live feed interrupted ({exc}); reconnecting", file=sys.stderr)
            await asyncio.sleep(delay)
            start, delay = time.time(), min(delay * 2, 5.0)
    return 0


def main(argv: Sequence[str] | None = None, prog: str = "python -m levibot_common.seed") -> int:
    """Entry point; returns the exit code."""
    args = build_parser(prog).parse_args(argv)
    settings = DatabaseSettings()
    env_dsn = settings.dsn.get_secret_value() if settings.dsn else None
    try:
        command = parse_seed_command(args, env_dsn, time.time())
    except ValueError as exc:
        print(f"seed-data: {exc}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    try:
        print(asyncio.run(apply_seed_command(command)))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        print(f"seed-data: database unreachable: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    return EXIT_OK

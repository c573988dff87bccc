"""``kubectl levibot``: watch canaries, request promote / abort / resume / retry / restart, undo a
ModelDeployment, list model versions.

Layer: CLI shell; the views are pure, in ``levibot_operator.cli.view``. The ``fetch_``/
``patch_`` functions shell out to ``kubectl`` ($KUBECTL, else PATH) so the user's kubeconfig,
context and namespace apply; no Kubernetes client is needed. Time, tokens and sleep come from
``main``. Exit codes: 0 ok, 1 kubectl failed, 2 usage, 3 not found, 4 refused, 5 no kubectl,
130 interrupted (except ``--watch``, which Ctrl-C ends cleanly with 0).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, TextIO

from levibot_operator import constants as c
from levibot_operator.cli import drift, trading
from levibot_operator.cli.undo import build_undo_canary, build_undo_now, plan_undo_version
from levibot_operator.cli.view import (
    CLEARED,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_NO_KUBECTL,
    EXIT_NOT_FOUND,
    REQUEST_HELP,
    REQUESTS,
    PluginError,
    build_token,
    decide_request,
    format_canary,
    format_overview,
    format_request,
    format_versions,
    parse_status,
)
from levibot_operator.core.canary.status import TERMINAL
from levibot_operator.core.modeldeployment.status import parse_md_status

KUBECTL_TIMEOUT_SECONDS = 60.0
WAIT_POLL_SECONDS = 0.5
CLEAR_SCREEN = "\x1b[H\x1b[2J"
# A Kubernetes object name (DNS-1123 subdomain): also keeps names from passing as kubectl flags.
VERSION = re.compile(r"^v[0-9]{1,9}$")
# What each request means, as Argo Rollouts writes its own (also in the README).
COMMANDS_HELP = """\
commands that change things (each is an annotation, so GitOps can do the same):
  promote <canary>   levibot.io/promote   promote now, skipping the remaining steps
  abort <canary>     levibot.io/abort     roll back: all traffic to the stable version
  resume <canary>    levibot.io/resume    continue a canary Paused until resumed
  retry <canary>     levibot.io/retry     start a RolledBack/Failed canary afresh: a new attempt
                                          from step 1, the candidate a 'candidate' again
                                          (clears levibot.io/abort and promote)
  restart <canary>   levibot.io/restart   start the current analysis over, weights unchanged
  undo <md>          roll back to the previous stable version (or --to vN) through a new Canary
                     from spec.canaryTemplate; with --now at once, no canary:
                     levibot.io/undo: vN + levibot.io/undo-now: "true" on the ModelDeployment
  reset-breaker <md> levibot.io/reset-breaker: close a tripped circuit breaker by hand
each token is acted on once; the operator remembers it in status (handledRetry, ...)."""
NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")


@dataclass(frozen=True)
class Kubectl:
    """The kubectl binary and the global flags (namespace, context, kubeconfig) passed on."""

    binary: str
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Runtime:
    """What the commands take from the outside world, passed in by ``main`` (fakes in tests)."""

    now: Callable[[], datetime]
    nonce: Callable[[], str]
    sleep: Callable[[float], None]
    out: TextIO


# -- shell: kubectl -----------------------------------------------------------------------------


def run_kubectl(kubectl: Kubectl, *args: str, stdin: str | None = None) -> str:
    """Run kubectl and return its stdout; failures become PluginErrors with kubectl's words."""
    try:
        done = subprocess.run(
            [kubectl.binary, *kubectl.flags, *args], input=stdin,
            capture_output=True, text=True, check=False, timeout=KUBECTL_TIMEOUT_SECONDS,
        )  # fmt: skip
    except FileNotFoundError:
        raise PluginError(f"kubectl not found at {kubectl.binary}", EXIT_NO_KUBECTL) from None
    except subprocess.TimeoutExpired:
        raise PluginError(f"kubectl {args[0]} timed out", EXIT_ERROR) from None
    message = done.stderr.strip() or f"kubectl exited with {done.returncode}"
    if done.returncode == 0:
        return done.stdout
    if "doesn't have a resource type" in message:
        message += " (are the levibot CRDs installed? kubectl apply -f crds/)"
    raise PluginError(message, EXIT_NOT_FOUND if "(NotFound)" in message else EXIT_ERROR)


def fetch_json(kubectl: Kubectl, verb: str, plurals: str, *args: str) -> dict[str, Any]:
    """``kubectl VERB <plural>.levibot.io[,...] ARGS -o json`` (qualified: no other canaries)."""
    resources = ",".join(f"{plural}.{c.GROUP}" for plural in plurals.split(","))
    text = run_kubectl(kubectl, verb, resources, *args, "-o", "json")
    try:
        return dict(json.loads(text))
    except (ValueError, TypeError) as exc:
        raise PluginError(f"kubectl printed no JSON object: {text[:200]!r}") from exc


def patch_annotation(kubectl: Kubectl, name: str, key: str, token: str) -> dict[str, Any]:
    """Set ``key=token`` (and remove the annotations the action clears) in one call."""
    cleared = tuple(f"{k}-" for k in CLEARED.get(key.rsplit("/", 1)[-1], ()))
    args = (name, "--overwrite", f"{key}={token}", *cleared)
    return fetch_json(kubectl, "annotate", c.CANARY_PLURAL, *args)


# -- shell: commands ----------------------------------------------------------------------------


def render_status(kubectl: Kubectl, name: str | None) -> tuple[str, bool]:
    """The text of one refresh, and whether watching can stop (a finished canary)."""
    if name is None:
        both = f"{c.CANARY_PLURAL},{c.MODELDEPLOYMENT_PLURAL}"  # one call: one moment in time
        items = fetch_json(kubectl, "get", both).get("items") or []
        canaries = [o for o in items if o.get("kind") == c.CANARY_KIND]
        deployments = [o for o in items if o.get("kind") == c.MODELDEPLOYMENT_KIND]
        paper = trading.format_paper_overview(deployments)
        paper += drift.format_drift_overview(deployments)
        return format_overview(canaries, deployments) + paper, False
    obj = fetch_json(kubectl, "get", c.CANARY_PLURAL, name)
    return format_canary(obj), parse_status(obj).phase in TERMINAL


def run_watch(render: Callable[[], tuple[str, bool]], rt: Runtime, every: float, limit: int) -> int:
    """Refresh every ``every`` s, at most ``limit`` times, until done; Ctrl-C exits cleanly.

    A failed kubectl call is shown and retried at the next refresh (the apiserver may be back).
    """
    clear = CLEAR_SCREEN if rt.out.isatty() else ""
    try:
        for count in range(1, limit + 1):
            try:
                text, done = render()
            except PluginError as exc:
                if exc.code != EXIT_ERROR:
                    raise
                text, done = f"error: {exc}", False
            print(f"{clear}{text}\n(every {every:g} s, Ctrl-C to stop)", file=rt.out, flush=True)
            if done or count == limit:
                break
            rt.sleep(every)
    except KeyboardInterrupt:
        print(file=rt.out)
    return 0


def run_request(kubectl: Kubectl, action: str, name: str, wait: float, rt: Runtime) -> int:
    """Set the action's annotation with a fresh token, then report the phase (waiting ≤ wait s)."""
    before = fetch_json(kubectl, "get", c.CANARY_PLURAL, name)
    note = decide_request(action, parse_status(before), before.get("spec") or {})
    token = build_token(rt.now(), rt.nonce())
    after = patch_annotation(kubectl, name, REQUESTS[action], token)
    for _ in range(int(wait / WAIT_POLL_SECONDS)):
        if after.get("status") != before.get("status"):
            break
        rt.sleep(WAIT_POLL_SECONDS)
        after = fetch_json(kubectl, "get", c.CANARY_PLURAL, name)
    print(format_request(action, before, token, after, note), file=rt.out)
    return 0


def run_undo(kubectl: Kubectl, args: argparse.Namespace, rt: Runtime) -> int:
    """Undo a ModelDeployment: a Canary of the previous version, or at once with ``--now``."""
    name = args.modeldeployment
    before = fetch_json(kubectl, "get", c.MODELDEPLOYMENT_PLURAL, name)
    version = plan_undo_version(before, args.to)
    if not args.now:
        canary = build_undo_canary(before, version, rt.nonce())
        run_kubectl(kubectl, "create", "-f", "-", stdin=json.dumps(canary))
        created = canary["metadata"]["name"]
        print(f"canary {created} rolls {name} back to {version}", file=rt.out)
        print(f"watch it: kubectl levibot status {created} --watch", file=rt.out)
        return 0
    after = fetch_json(kubectl, "annotate", c.MODELDEPLOYMENT_PLURAL, name, "--overwrite",
                       *build_undo_now(version))  # fmt: skip
    for _ in range(int(args.wait / WAIT_POLL_SECONDS)):
        if parse_md_status(after.get("status")).stable_version == version:
            break
        rt.sleep(WAIT_POLL_SECONDS)
        after = fetch_json(kubectl, "get", c.MODELDEPLOYMENT_PLURAL, name)
    stable = parse_md_status(after.get("status")).stable_version or "-"
    print(f"requested undo of {name} to {version} at once; stable now: {stable}", file=rt.out)
    return 0


def parse_version(text: str) -> str:
    """An argparse type: a model version ``vN``."""
    if not VERSION.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a version (vN)")
    return text


def parse_name(text: str) -> str:
    """An argparse type: a Kubernetes object name, or a usage error that shows the value."""
    if not NAME.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a Kubernetes name (DNS-1123 subdomain)")
    return text


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-n", "--namespace", type=parse_name, help="default: the context's")
    common.add_argument("--context", help="kubeconfig context")
    common.add_argument("--kubeconfig", help="kubeconfig file")
    about = "Watch levibot canaries, request promote / abort / resume / retry / restart, undo."
    parser = argparse.ArgumentParser(
        prog="kubectl levibot", description=about, epilog=COMMANDS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True)
    status = sub.add_parser("status", parents=[common], help="a canary, or all in a namespace")
    status.add_argument("canary", nargs="?", type=parse_name)
    status.add_argument("-w", "--watch", action="store_true", help="refresh until finished")
    status.add_argument("--interval", type=float, default=2.0, help="seconds between refreshes")
    status.add_argument("--max-refreshes", type=int, default=1800, help="bound of --watch")
    for action in REQUESTS:
        request = sub.add_parser(action, parents=[common], help=REQUEST_HELP[action])
        request.add_argument("canary", type=parse_name)
        request.add_argument("--wait", type=float, default=5.0, help="seconds to await a change")
    undo = sub.add_parser("undo", parents=[common], help="a ModelDeployment's previous version")
    undo.add_argument("modeldeployment", type=parse_name)
    undo.add_argument("--to", type=parse_version, help="this version (default: previous stable)")
    undo.add_argument("--now", action="store_true", help="at once, without a canary")
    undo.add_argument("--wait", type=float, default=5.0, help="seconds to await --now")
    history = sub.add_parser("history", parents=[common], help="a ModelDeployment's versions")
    history.add_argument("modeldeployment", type=parse_name)
    trading.add_reset_parser(sub, common, parse_name)
    return parser


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line; out-of-range numbers exit with usage (2) naming the flag."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "interval", 1.0) <= 0 or getattr(args, "max_refreshes", 1) < 1:
        parser.error("--interval must be > 0 and --max-refreshes >= 1")
    if getattr(args, "wait", 0.0) < 0:
        parser.error("--wait must be >= 0")
    return args


def build_kubectl(args: argparse.Namespace, binary: str | None) -> Kubectl:
    if not binary:
        raise PluginError("kubectl not found on PATH (or set $KUBECTL)", EXIT_NO_KUBECTL)
    options = {"--namespace": args.namespace, "--context": args.context}
    options["--kubeconfig"] = args.kubeconfig
    return Kubectl(binary, tuple(f"{flag}={value}" for flag, value in options.items() if value))


def run_command(args: argparse.Namespace, kubectl: Kubectl, rt: Runtime) -> int:
    if args.command == "history":
        obj = fetch_json(kubectl, "get", c.MODELDEPLOYMENT_PLURAL, args.modeldeployment)
        extra = trading.format_paper(obj) + drift.format_drift(obj)
        print(format_versions(obj) + extra, file=rt.out)
        return 0
    if args.command == trading.RESET_COMMAND:
        token = build_token(rt.now(), rt.nonce())
        return trading.run_reset_breaker(
            partial(fetch_json, kubectl), args, token, rt.sleep, rt.out
        )
    if args.command == "undo":
        return run_undo(kubectl, args, rt)
    if args.command in REQUESTS:
        return run_request(kubectl, args.command, args.canary, args.wait, rt)
    render = partial(render_status, kubectl, args.canary)
    if args.watch:
        return run_watch(render, rt, args.interval, args.max_refreshes)
    print(render()[0], file=rt.out)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``kubectl-levibot`` (kubectl finds it on PATH as ``kubectl levibot``)."""
    args = parse_args(argv)
    rt = Runtime(lambda: datetime.now(UTC), lambda: uuid.uuid4().hex, time.sleep, sys.stdout)
    try:
        kubectl = build_kubectl(args, os.environ.get("KUBECTL") or shutil.which("kubectl"))
        return run_command(args, kubectl, rt)
    except PluginError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())

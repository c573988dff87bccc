"""Child processes of the dev stack: start in their own session, wait for, find, stop.

Tooling layer. Every server the dev stack runs is a process group of its own logging to a file,
so it can be stopped as a whole; a killed run is cleaned up by finding the processes that name
its work directory.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def wait_until(pred: Callable[[], T], timeout: float, what: str, every: float = 0.1) -> T:
    """Polls `pred` until it returns something truthy, and returns that; TimeoutError naming
    `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(every)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def processes_under(path: Path) -> list[int]:
    """Pids of the processes whose working directory is inside `path` (Linux /proc)."""
    root, found = str(path.resolve()), []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue
        if cwd == root or cwd.startswith(root + "/"):
            found.append(int(proc.name))
    return found


def processes_mentioning(path: Path) -> list[int]:
    """Pids of the processes (other than this one) whose command line names a file under
    `path`: every server of a local stack does, so these are what a killed run left behind."""
    root, found = str(path.resolve()), []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(a.decode(errors="replace").startswith(root + "/") for a in args):
            found.append(int(proc.name))
    return found


def require_binary(path: str) -> str:
    """The binary's path, or a FileNotFoundError that says how to install it."""
    found = shutil.which(path)
    if not found:
        raise FileNotFoundError(f"{path} not found: run `make deps` (installs Debian packages)")
    return found


def pid_file_alive(pid_file: Path) -> bool:
    """True when the process whose pid `pid_file` holds is alive."""
    try:
        os.kill(int(pid_file.read_text()), 0)
    except (OSError, ValueError):
        return False
    return True


def stop_groups(pids: list[int], grace: float = 5) -> None:
    """SIGTERM each process group, then SIGKILL whatever is left after `grace` seconds."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while pids and time.monotonic() < deadline:
        pids = [pid for pid in pids if _group_alive(pid)]
        time.sleep(0.1)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)


def _group_alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    return True


@dataclass
class Process:
    """A child process in its own session, logging to a file."""

    argv: list[str]
    log: Path
    user: str | None = None
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        argv = self.argv
        if self.user and os.geteuid() == 0:
            argv = ["runuser", "-u", self.user, "--", *argv]
        with self.log.open("ab") as out:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, grace: float = 10, sig: int = signal.SIGTERM) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

"""Reads the images' Dockerfiles and runs an image's command on the host with the image's env.

Test support layer. Images cannot be built here (no container engine), so the tests prove each
image's ENTRYPOINT/CMD by running it in the development virtualenv with the final stage's ENV,
its /app source paths mapped onto the repository.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from levibot_devstack.net import free_port

ROOT = Path(__file__).resolve().parents[3]
IMAGES = ROOT / "images"
VENV_BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Stage:
    """One FROM stage of a Dockerfile: its instructions as (KEYWORD, argument) pairs."""

    base: str
    name: str | None
    instructions: tuple[tuple[str, str], ...]


def parse_instructions(text: str) -> list[tuple[str, str]]:
    """Dockerfile instructions with line continuations joined and comments dropped."""
    logical, current = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    return [
        (keyword.upper(), rest.strip()) for keyword, _, rest in (s.partition(" ") for s in logical)
    ]


def parse_stages(path: Path) -> list[Stage]:
    """The stages of a Dockerfile, in order."""
    stages: list[Stage] = []
    for keyword, arg in parse_instructions(path.read_text()):
        if keyword == "FROM":
            words = arg.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(words[0], name, ()))
        elif stages:
            last = stages[-1]
            stages[-1] = Stage(last.base, last.name, (*last.instructions, (keyword, arg)))
    return stages


def stage_env(stage: Stage) -> dict[str, str]:
    """ENV of a stage (KEY=VALUE pairs, shell-quoted values allowed)."""
    env: dict[str, str] = {}
    for keyword, arg in stage.instructions:
        if keyword == "ENV":
            env |= dict(item.split("=", 1) for item in shlex.split(arg))
    return env


def stage_command(stage: Stage) -> list[str]:
    """ENTRYPOINT followed by CMD (both must be JSON exec form)."""
    found = {k: json.loads(a) for k, a in stage.instructions if k in ("ENTRYPOINT", "CMD")}
    return [*found.get("ENTRYPOINT", []), *found.get("CMD", [])]


def final_stage(image: str) -> Stage:
    return parse_stages(IMAGES / f"{image}.Dockerfile")[-1]


def host_env(image: str, home: Path, extra: dict[str, str]) -> dict[str, str]:
    """The image's runtime ENV translated to this machine: /app → repository, venv on PATH."""
    env = stage_env(final_stage(image))
    env["PYTHONPATH"] = env["PYTHONPATH"].replace("/app/", f"{ROOT}/")
    env["PATH"] = f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin"
    env["HOME"] = str(home)
    return env | extra


def run_image_command(
    image: str,
    home: Path,
    extra: dict[str, str],
    args: list[str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Runs the image's command (optionally with other CMD args) to completion."""
    command = image_command(image, args)
    return subprocess.run(
        command,
        env=host_env(image, home, extra),
        cwd=home,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def image_command(image: str, args: list[str] | None = None) -> list[str]:
    """ENTRYPOINT + CMD, or ENTRYPOINT + args when args are given (as a pod's `args` would)."""
    stage = final_stage(image)
    if args is None:
        return stage_command(stage)
    entry = [json.loads(a) for k, a in stage.instructions if k == "ENTRYPOINT"]
    return [*entry[-1], *args]


def start_image_command(image: str, home: Path, extra: dict[str, str]) -> subprocess.Popen[bytes]:
    """Starts the image's command in the background, output to home/<image>.log.

    The caller stops it."""
    with (home / f"{image}.log").open("wb") as log:
        return subprocess.Popen(
            image_command(image),
            env=host_env(image, home, extra),
            cwd=home,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def fetch_url(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> bytes:
    """GET url, retrying while the process starts; fails if the process exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the process exited with {proc.returncode}"
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                return bytes(resp.read())
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout}s")


@contextmanager
def running_predictor(
    home: Path, model_path: Path
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The predictor image's command serving model_path on a free loopback port.

    Yields (base URL, process); stops the process on exit."""
    port = free_port()
    env = {
        "LEVIBOT_PREDICTOR_MODEL_PATH": str(model_path),
        "LEVIBOT_PREDICTOR_HOST": "127.0.0.1",
        "LEVIBOT_PREDICTOR_PORT": str(port),
        "LEVIBOT_PREDICTOR_MODEL_NAME": "ml.btc-direction",
    }
    proc = start_image_command("predictor", home, env)
    try:
        yield f"http://127.0.0.1:{port}", proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)

"""Where the dev stack finds the repository and its Go-built binaries.

Tooling layer. kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, kwok and helm
are built once by hack/tools.sh and cached under ~/.cache/levibot/bin/<versions>/.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def tool_dir() -> Path:
    """The cached binaries; builds them on first use (hack/tools.sh)."""
    env_dir = os.environ.get("LEVIBOT_BIN_DIR")
    if env_dir:
        return Path(env_dir)
    out = subprocess.run(
        [str(ROOT / "hack" / "tools.sh")], check=True, capture_output=True, text=True
    )
    return Path(out.stdout.strip().splitlines()[-1])

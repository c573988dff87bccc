"""Test support: a cached side virtualenv with alibi-detect, and a KSDrift run in it.

alibi-detect pins numpy<2 (and is BSL-licensed), so it can never live in the main venv. The
cross-check test builds ``~/.cache/levibot/venv-alibi`` once (idempotent: a marker file records
a finished install) and runs alibi's KSDrift in a subprocess on data passed through a file.
"""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

ALIBI_VENV = Path.home() / ".cache" / "levibot" / "venv-alibi"
_MARKER = ALIBI_VENV / ".levibot-ready"
_REQUIREMENT = "alibi-detect==0.13.0"

_KS_SCRIPT = """
import json, sys
import numpy as np
from alibi_detect.cd import KSDrift
data = json.load(open(sys.argv[1]))
ref = np.asarray(data["reference"], dtype=np.float32)
cur = np.asarray(data["current"], dtype=np.float32)
detector = KSDrift(ref, p_val=0.05, correction="bonferroni")
result = detector.predict(cur, return_p_val=True)
print(json.dumps([float(p) for p in result["data"]["p_val"]]))
"""


def ensure_alibi_venv() -> Path:
    """Create the alibi-detect venv once; return its python executable."""
    python = ALIBI_VENV / "bin" / "python"
    if _MARKER.exists():
        return python
    ALIBI_VENV.parent.mkdir(parents=True, exist_ok=True)
    if not python.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(ALIBI_VENV)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", _REQUIREMENT],
        check=True,
        timeout=3600,
    )
    _MARKER.write_text(_REQUIREMENT)
    return python


def run_alibi_ks(
    reference: NDArray[np.float64], current: NDArray[np.float64], workdir: Path
) -> list[float]:
    """Per-feature KS p-values computed by alibi-detect's KSDrift in the side venv."""
    python = ensure_alibi_venv()
    data_path = workdir / "alibi-input.json"
    data_path.write_text(json.dumps({"reference": reference.tolist(), "current": current.tolist()}))
    done = subprocess.run(
        [str(python), "-c", _KS_SCRIPT, str(data_path)],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return [float(p) for p in json.loads(done.stdout.strip().splitlines()[-1])]


if __name__ == "__main__":
    print(ensure_alibi_venv(), file=sys.stderr)

"""The operator's import contracts can fail: one core -> servers import breaks them.

Runs lint-imports on a temporary copy of the operator package with only the operator's own
contracts from pyproject.toml: the unmodified copy passes, the copy with one forbidden import
fails. A few seconds (no cache, one package).
"""

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "operator" / "levibot_operator"
FORBIDDEN_LINE = "from levibot_operator.servers import webhook  # noqa: F401\n"


def operator_contracts() -> list[dict[str, Any]]:
    """The contracts of pyproject.toml that name only operator modules."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts: list[dict[str, Any]] = config["tool"]["importlinter"]["contracts"]
    keys = ("containers", "source_modules", "modules")
    return [
        contract
        for contract in contracts
        if all(m.startswith("levibot_operator") for k in keys for m in contract.get(k, []))
    ]


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return '"' + str(value).replace('"', '\\"') + '"'


def write_config(directory: Path) -> Path:
    lines = [
        "[tool.importlinter]",
        'root_packages = ["levibot_operator"]',
        "include_external_packages = true",
    ]
    for contract in operator_contracts():
        lines += ["", "[[tool.importlinter.contracts]]"]
        lines += [f"{key} = {toml_value(value)}" for key, value in contract.items()]
    path = directory / "pyproject.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def run_lint_imports(directory: Path) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"]
    command += ["--config", str(directory / "pyproject.toml")]
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(directory)}
    return subprocess.run(
        command, cwd=directory, env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def operator_copy(tmp_path: Path) -> Path:
    shutil.copytree(PACKAGE, tmp_path / "levibot_operator", ignore=shutil.ignore_patterns("*.pyc"))
    write_config(tmp_path)
    return tmp_path


def test_the_operator_contracts_are_found() -> None:
    names = [c["name"] for c in operator_contracts()]
    assert any(c["type"] == "layers" for c in operator_contracts()), names
    assert any(c["type"] == "forbidden" for c in operator_contracts()), names


def test_the_unmodified_operator_keeps_its_contracts(operator_copy: Path) -> None:
    result = run_lint_imports(operator_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(operator_contracts())} kept, 0 broken" in result.stdout


def test_a_core_module_importing_a_server_breaks_the_contracts(operator_copy: Path) -> None:
    module = operator_copy / "levibot_operator" / "core" / "canary" / "machine.py"
    text = module.read_text()
    first_import = text.index("\nfrom ")
    module.write_text(text[: first_import + 1] + FORBIDDEN_LINE + text[first_import + 1 :])
    result = run_lint_imports(operator_copy)
    assert result.returncode != 0, result.stdout
    assert "levibot_operator.core.canary.machine" in result.stdout
    assert "BROKEN" in result.stdout

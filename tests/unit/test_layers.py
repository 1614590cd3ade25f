"""The layout's promises: dependencies run one way between packages, and importing builds nothing."""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("schemas", "rules", "sinks", "agents", "streams", "bench")


def test_packages_depend_one_way() -> None:
    """import-linter checks the layers contract in pyproject.toml: a new import against it fails here."""
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout  # packages, rules/ and streams/ layers


def test_the_contract_is_broken_by_an_upward_import(tmp_path: Path) -> None:
    """The check can fail: a copy of the tree with schemas importing streams breaks the contract."""
    for package in PACKAGES:
        subprocess.run(["cp", "-r", str(ROOT / package), str(tmp_path / package)], check=True)
    subprocess.run(["cp", str(ROOT / "pyproject.toml"), str(tmp_path)], check=True)
    (tmp_path / "schemas" / "upward.py").write_text("import streams.settings\n", encoding="utf-8")
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    assert result.returncode == 1
    assert "schemas.upward -> streams.settings" in result.stdout


def test_importing_every_module_reads_no_settings() -> None:
    """Nothing is built at import time: with a settings value that cannot be parsed, every module
    still imports (a module that read the environment on import would fail)."""
    names = [
        info.name
        for package in PACKAGES
        for info in pkgutil.walk_packages([str(ROOT / package)], prefix=f"{package}.")
        if not info.name.endswith("__main__")
    ]
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    result = subprocess.run(
        [sys.executable, "-c", code, *names],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SIGNALBANK_PARTITIONS": "not-a-number", "SIGNALBANK_REDIS_URL": "nowhere"},
    )
    assert result.returncode == 0, result.stderr
    assert len(names) > 60

"""The demo store, built once for the remediation tests as `secscan demo --no-scan` builds it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("remediate-demo") / "demo"
    proc = subprocess.run([sys.executable, "-m", "secscan", "demo", "--out", str(out), "--no-scan"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out

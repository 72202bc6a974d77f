"""Dependency rules of DESIGN.md: the agent stays light; stages import only earlier stages."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PKG = ROOT / "secscan"

AGENT_ALLOWED = {"psutil", "click", "pydantic", "pydantic_core", "typing_extensions"}
HEAVY = {"sqlalchemy", "fastapi", "uvicorn", "weasyprint", "jinja2", "httpx", "nmap", "yaml", "jmespath", "rich",
         "pygal", "psycopg", "alembic"}
# stage -> secscan packages it may import at module level (DESIGN.md table)
STAGES = {
    "model": {"model"},
    "agent": {"model", "agent"},
    "scan": {"model", "scan"},
    "collector": {"model", "collector"},
    "policy": {"model", "policy"},
    "report": {"model", "policy", "report"},
    "remediate": {"model", "policy", "remediate"},
}


def module_imports(path: Path, top_level_only: bool) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted((PKG / "agent").rglob("*.py")), ids=lambda p: str(p.relative_to(PKG)))
def test_agent_module_level_imports_are_light(path: Path) -> None:
    for name in module_imports(path, top_level_only=True):
        top = name.split(".")[0]
        if top == "secscan":
            assert name == "secscan" or name.split(".")[1] in {"model", "agent"}, f"{path}: imports {name}"
        else:
            assert top in sys.stdlib_module_names or top in AGENT_ALLOWED, f"{path}: imports {name}"


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_no_stage_imports_a_later_one(stage: str) -> None:
    folder = PKG / stage
    if not folder.is_dir():
        pytest.skip(f"secscan/{stage} not built yet")
    for path in folder.rglob("*.py"):
        if path.name == "cli.py":
            continue  # the CLI modules are the wiring layer (DESIGN.md: cli may import everything)
        for name in module_imports(path, top_level_only=False):
            parts = name.split(".")
            if parts[0] == "secscan" and len(parts) > 1 and (PKG / parts[1]).is_dir():
                assert parts[1] in STAGES[stage], f"{path.relative_to(ROOT)} imports {name}"


def test_agent_run_loads_nothing_heavy() -> None:
    code = ("import sys; from secscan.agent.cli import agent; from secscan.agent.linux import collect; collect(); "
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {sorted(HEAVY)!r}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"

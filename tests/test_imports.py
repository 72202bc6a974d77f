"""DESIGN.md's package table, held on every file of secscan/ (a stage's own cli.py included): what
each part may import of secscan and of third-party packages, at any depth (module level, inside
functions, under TYPE_CHECKING), with relative imports resolved and module paths written as
strings ("secscan.x.y:attr", as uvicorn and importlib take them) counted too. house.json's
"never" edges are copied below as data, with their reasons. Each rule has a test that a violating
snippet is caught."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PKG = ROOT / "secscan"

# --- the table (DESIGN.md), as data ---------------------------------------------------------------
# part -> what it is, relative to secscan/: "name/" is a package, "name.py" a module.
PARTS: dict[str, tuple[str, ...]] = {
    "model": ("model/",),
    "agent": ("agent/",),
    "scan": ("scan/",),
    "collector": ("collector/",),
    "policy": ("policy/",),
    "report": ("report/",),
    "remediate": ("remediate/",),
    "console": ("console/",),
    "synth": ("synth/", "testing.py"),
    "demo": ("demo/",),
    "wiring": ("cli.py", "__main__.py", "wiring/"),
    # no stage's: the package root (its version) and the one helper module; standard library only
    "shared": ("__init__.py", "runtime.py"),
}
STAGES = ("model", "agent", "scan", "collector", "policy", "report", "remediate", "console", "synth", "demo")
# part -> the secscan parts it may import besides itself and "shared"
MAY_IMPORT: dict[str, set[str]] = {
    "model": set(),
    "agent": {"model"},
    "scan": {"model"},
    "collector": {"model"},
    "policy": {"model"},
    "report": {"model", "policy"},
    "remediate": {"model", "policy"},
    "console": {"model", "policy", "report", "collector"},
    "synth": {"model"},
    "demo": {"model", "synth", "scan", "collector", "policy", "report"},
    "wiring": set(STAGES),
    "shared": set(),
}
# part -> the third-party packages it may import (top-level import names); the standard library is free
_WEB = {"fastapi", "starlette", "uvicorn", "httptools", "uvloop"}
THIRD_PARTY: dict[str, set[str]] = {
    "model": {"pydantic", "pydantic_core", "typing_extensions"},
    "agent": {"pydantic", "pydantic_core", "psutil", "click", "httpx"},
    "scan": {"pydantic", "pydantic_core", "click", "rich"},
    "collector": {"pydantic", "pydantic_core", "sqlalchemy", "psycopg", "alembic", "orjson", "click", "rich", *_WEB},
    "policy": {"pydantic", "pydantic_core", "yaml", "jmespath", "click", "rich"},
    "report": {"pydantic", "pydantic_core", "jinja2", "markupsafe", "weasyprint", "fontTools", "pygal", "openpyxl",
               "yaml", "httpx", "click", "rich"},
    "remediate": {"pydantic", "pydantic_core"},
    "console": {"pydantic", "pydantic_core", "jinja2", "markupsafe", "fastapi", "starlette"},
    "synth": {"pydantic", "pydantic_core"},
    "demo": {"pydantic", "pydantic_core", "click", "yaml", "rich"},
    "wiring": {"pydantic", "pydantic_core", "click", "rich", "uvicorn"},
    "shared": set(),
}
# (part, package) -> the only files of the part that may import it
ONLY_IN: dict[tuple[str, str], tuple[str, ...]] = {
    ("agent", "httpx"): ("agent/delivery.py",),  # the agent stays light: httpx only to deliver
    ("report", "httpx"): ("report/feed.py",),  # `report feed --push`
}
# house.json's "never" edges: (from, to, why)
NEVER: list[tuple[str, str, str]] = [
    ("model", "agent", "contracts know no stage"),
    ("model", "collector", "contracts know no stage"),
    ("model", "policy", "contracts know no stage"),
    ("model", "report", "contracts know no stage"),
    ("model", "wiring", "contracts know no CLI"),
    ("agent", "collector", "the agent runs alone on a PC"),
    ("agent", "policy", "the agent never judges"),
    ("agent", "report", "the agent never judges"),
    ("agent", "wiring", "a stage is joined, it does not join"),
    ("scan", "collector", "a scan stands alone"),
    ("scan", "policy", "a scan never judges"),
    ("scan", "wiring", "a stage is joined, it does not join"),
    ("collector", "agent", "decoding is wired in, not imported by the store"),
    ("collector", "policy", "judging is wired in"),
    ("collector", "report", "a later stage"),
    ("collector", "wiring", "a stage is joined, it does not join"),
    ("policy", "collector", "judging knows no storage"),
    ("policy", "report", "a later stage"),
    ("policy", "wiring", "a stage is joined, it does not join"),
    ("report", "collector", "reports read what the wiring hands them"),
    ("report", "demo", "the demo is a user of reports"),
    ("report", "wiring", "a stage is joined, it does not join"),
    ("demo", "wiring", "the wiring runs the demo, not the other way"),
]
WHY = {(a, b): why for a, b, why in NEVER}
HEAVY = {"sqlalchemy", "fastapi", "uvicorn", "weasyprint", "jinja2", "httpx", "nmap", "yaml", "jmespath", "rich",
         "pygal", "psycopg", "alembic"}


# --- the checker ----------------------------------------------------------------------------------
def part_of_file(rel: str) -> str | None:
    """The part a file belongs to (``rel``: its path under secscan/, with /)."""
    for part, members in PARTS.items():
        for member in members:
            if rel == member or (member.endswith("/") and rel.startswith(member)):
                return part
    return None


def part_of_module(dotted: str) -> str | None:
    """The part of module ``secscan.x.y``, or None when the table does not name ``x``."""
    names = dotted.split(".")
    if len(names) == 1:
        return "shared"  # the package root
    return part_of_file(names[1] + "/") or part_of_file(names[1] + ".py")


def _module_of(rel: str) -> list[str]:
    names = ["secscan", *rel[: -len(".py")].split("/")]
    return names[:-1] if names[-1] == "__init__" else names


def imported(tree: ast.AST, rel: str) -> list[tuple[int, str]]:
    """(line, module) for every import in the file, at any depth, relative ones resolved; a
    ``from package import name`` counts as ``package.name`` (it may be a module); string constants
    that are module paths into a part of secscan count as imports."""
    package = _module_of(rel) if rel.endswith("__init__.py") else _module_of(rel)[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] == "secscan":
                found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, module))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            match = re.fullmatch(r"(secscan(?:\.\w+)+)(?::\w+)?", node.value)
            if match and part_of_module(match.group(1)) is not None:  # not a file name such as secscan.db
                found.append((node.lineno, match.group(1)))
    return found


def violations(path: Path, pkg: Path = PKG) -> list[str]:
    """Every import of ``path`` (a file under ``pkg``, the secscan package) that the table forbids."""
    rel = path.relative_to(pkg).as_posix()
    part = part_of_file(rel)
    if part is None:
        return [f"secscan/{rel}: in no part of the table (add it to PARTS and to DESIGN.md's table)"]
    found = []
    for line, module in imported(ast.parse(path.read_text(encoding="utf-8"), str(path)), rel):
        where = f"secscan/{rel}:{line}: {part} imports {module}"
        top = module.split(".")[0]
        if top == "secscan":
            names = module.split(".")
            if len(names) == 2 and names[1].startswith("__") and names[1] != "__main__":
                target = "shared"  # `from secscan import __version__`: the root's attribute, not a module
            else:
                target = part_of_module(module)
            if target is None:
                found.append(f"{where}: secscan.{names[1]} is in no part of the table")
            elif target not in {part, "shared"} | MAY_IMPORT[part]:
                why = WHY.get((part, target), f"{part} may import only {sorted(MAY_IMPORT[part]) or 'itself'}")
                found.append(f"{where}: {why}")
        elif top and top != "__future__" and top not in sys.stdlib_module_names:
            if top not in THIRD_PARTY[part]:
                found.append(f"{where}: not in {part}'s third-party column {sorted(THIRD_PARTY[part])}")
            elif (part, top) in ONLY_IN and rel not in ONLY_IN[part, top]:
                found.append(f"{where}: only {', '.join(ONLY_IN[part, top])} of {part} may import {top}")
    return found


# --- the table holds ------------------------------------------------------------------------------
FILES = sorted(PKG.rglob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PKG)))
def test_file_imports_only_what_its_part_may(path: Path) -> None:
    assert violations(path) == []


def test_no_never_edge_is_allowed_by_the_table() -> None:
    for source, target, why in NEVER:
        assert target not in MAY_IMPORT[source], f"{source} -> {target}: house.json says never ({why})"


def test_the_table_names_every_part_once() -> None:
    assert set(MAY_IMPORT) == set(PARTS) == set(THIRD_PARTY)
    members = [m for ms in PARTS.values() for m in ms]
    assert len(members) == len(set(members))


def test_agent_run_loads_nothing_heavy() -> None:
    code = ("import sys; from secscan.agent.cli import agent; from secscan.agent.linux import collect; collect(); "
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {sorted(HEAVY)!r}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


# --- each rule bites: violating snippets in a scratch secscan/ tree -------------------------------
def caught(tmp_path: Path, rel: str, source: str) -> list[str]:
    path = tmp_path / "secscan" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")
    return violations(path, tmp_path / "secscan")


def _module_in(part: str) -> str:
    member = PARTS[part][0]
    return f"secscan.{member[:-1]}.x" if member.endswith("/") else f"secscan.{member[: -len('.py')]}"


def _file_in(part: str, name: str = "x.py") -> str:
    member = PARTS[part][-1] if part == "shared" else PARTS[part][0]
    return member + name if member.endswith("/") else member


FORBIDDEN = [(a, b) for a in PARTS for b in PARTS if b not in MAY_IMPORT[a] | {a, "shared"}]


@pytest.mark.parametrize(("source", "target"), FORBIDDEN, ids=lambda v: str(v))
def test_a_forbidden_secscan_import_is_caught(tmp_path: Path, source: str, target: str) -> None:
    found = caught(tmp_path, _file_in(source), f"import {_module_in(target)}\n")
    assert len(found) == 1, found
    if (source, target) in WHY:
        assert found[0].endswith(WHY[source, target])


@pytest.mark.parametrize(("source", "target", "why"), NEVER, ids=lambda v: str(v))
def test_each_never_edge_is_caught_with_its_reason(tmp_path: Path, source: str, target: str, why: str) -> None:
    found = caught(tmp_path, _file_in(source, "cli.py"), f"def f():\n    from {_module_in(target)} import y\n")
    assert len(found) == 1 and found[0].endswith(why), found


@pytest.mark.parametrize(("source", "target"), [(a, b) for a in PARTS for b in MAY_IMPORT[a]], ids=lambda v: str(v))
def test_an_allowed_secscan_import_passes(tmp_path: Path, source: str, target: str) -> None:
    assert caught(tmp_path, _file_in(source), f"import {_module_in(target)}\n") == []


def test_a_stage_cli_has_no_exemption(tmp_path: Path) -> None:
    assert caught(tmp_path, "collector/cli.py", "from secscan.agent.windows import decode_capture\n")
    assert caught(tmp_path, "report/cli.py", "from secscan.cli import keep_until_exit\n")


@pytest.mark.parametrize("source", [
    "from ..collector import store\n",  # relative, to a sibling stage
    "from .. import cli\n",  # relative, the wiring module by name
    "from secscan import cli\n",
    "from secscan import collector\n",
    "import typing\nif typing.TYPE_CHECKING:\n    from secscan.collector.store import Store\n",
    "def f():\n    try:\n        import secscan.demo.bundle\n    except ImportError:\n        pass\n",
    "import importlib\nM = importlib.import_module('secscan.collector.store')\n",
    "APP = 'secscan.wiring.collector:app_from_env'\n",
])
def test_every_form_of_import_is_seen(tmp_path: Path, source: str) -> None:
    assert caught(tmp_path, "report/feed.py", source)


def test_relative_imports_within_a_part_and_the_root_version_pass(tmp_path: Path) -> None:
    assert caught(tmp_path, "report/pdf.py", "from . import render\nfrom .summary import Summary\n"
                  "from secscan import __version__\nfrom secscan.runtime import data_dir\n") == []
    assert caught(tmp_path, "agent/windows/decode.py", "from .. import delivery\nfrom ...model import host\n") == []


def test_a_file_in_no_part_is_caught(tmp_path: Path) -> None:
    assert caught(tmp_path, "helpers.py", "import os\n")


@pytest.mark.parametrize("part", sorted(PARTS))
def test_a_third_party_import_outside_the_column_is_caught(tmp_path: Path, part: str) -> None:
    outside = next(p for p in ("weasyprint", "sqlalchemy", "psutil", "yaml", "numpy") if p not in THIRD_PARTY[part])
    found = caught(tmp_path, _file_in(part), f"def f():\n    import {outside}.submodule\n")
    assert len(found) == 1 and "third-party column" in found[0], found
    for allowed in sorted(THIRD_PARTY[part] - {p for (_, p) in ONLY_IN}):
        assert caught(tmp_path, _file_in(part, "y.py"), f"import {allowed}\n") == [], allowed


@pytest.mark.parametrize(("part", "package"), sorted(ONLY_IN))
def test_a_package_allowed_in_one_module_only_is_caught_elsewhere(tmp_path: Path, part: str, package: str) -> None:
    (home,) = ONLY_IN[part, package]
    assert caught(tmp_path, home, f"def push():\n    import {package}\n") == []
    found = caught(tmp_path, _file_in(part, "runner.py"), f"def push():\n    import {package}\n")
    assert len(found) == 1 and f"only {home}" in found[0], found


def test_the_shared_module_imports_only_the_standard_library(tmp_path: Path) -> None:
    assert caught(tmp_path, "runtime.py", "import gc\nfrom pathlib import Path\n") == []
    assert caught(tmp_path, "runtime.py", "import yaml\n")
    assert caught(tmp_path, "runtime.py", "from secscan.model.host import HostReport\n")


def test_readme_states_the_table_as_kept_here() -> None:
    """README.md's architecture table: each part's "may import" cell is MAY_IMPORT's row."""
    rows = {}
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0].startswith("`secscan/"):
            part = part_of_file(cells[0].split("`")[1].removeprefix("secscan/"))
            rows[part] = set() if cells[2] == "—" else set(STAGES) if cells[2] == "everything" else \
                {name.strip() for name in cells[2].split(",")}
    built = {part for part in PARTS if any((PKG / m).exists() for m in PARTS[part])}
    assert set(rows) == built
    for part, allowed in rows.items():
        assert allowed == MAY_IMPORT[part], part

"""org.yaml and policies are plain YAML: an explicit tag that asks for anything else is refused
with its file, line and field (issue 16: ``!!python/object`` on a mapping was silently ignored,
since only scalars go through the safe constructor), and nothing is built from such a file.
Aliases count once per use, so an alias graph cannot expand in whoever walks the data."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from secscan.policy import lint_baseline_file, lint_org_file
from secscan.policy.cli import org as org_cli
from secscan.policy.source import MAX_NODES, parse

ROOT = Path(__file__).resolve().parents[2]
ORG = """\
name: UBND huyện Thử
default_level: 2
units:
  - id: huyen
    name: UBND huyện Thử
    kind: district
    networks: [10.0.0.0/16]
"""

REFUSED = [
    ("!!python/object:os.system", "{cmd: ls}"),  # on a mapping: ignored before
    ("!!python/object/new:os.system", "[ls]"),  # on a list: ignored before
    ("!!python/object/apply:subprocess.call", "{args: [ls]}"),
    ("!!python/name:os.system", "''"),
    ("!!python/module:os", "''"),
    ("!!python/tuple", "[1, 2]"),
    ("!!binary", "aGk="),
    ("!!set", "{a, b}"),
    ("!!omap", "[a: 1]"),
    ("!!pairs", "[a: 1]"),
    ("!custom", "{a: 1}"),
    ("!<tag:example.com,2026:thing>", "x"),
]


@pytest.mark.parametrize(("tag", "value"), REFUSED, ids=[t for t, _ in REFUSED])
def test_any_explicit_non_plain_tag_is_refused_with_its_line(tmp_path: Path, tag: str, value: str) -> None:
    path = tmp_path / "org.yaml"
    path.write_text(ORG + f"    contacts: {tag} {value}\n", encoding="utf-8")
    errors = [str(e) for e in lint_org_file(path)]
    shown = tag if not tag.startswith("!<") else tag[2:-1]
    assert errors == [f"{path}:8: units[0].contacts: tag {shown} is not allowed: only plain YAML "
                      "(mappings, lists, strings, numbers, booleans, dates, null)"]


def test_a_tag_on_the_document_itself(tmp_path: Path) -> None:
    path = tmp_path / "org.yaml"
    path.write_text("--- !!python/object:secscan.Org\n" + ORG, encoding="utf-8")
    errors = [str(e) for e in lint_org_file(path)]
    assert errors[0].startswith(f"{path}:1: (document): tag !!python/object:secscan.Org")


def test_a_tag_on_a_merged_mapping_or_a_key(tmp_path: Path) -> None:
    src = parse("base: &b {kind: commune}\nunit:\n  <<: !!python/object:x {level: 2}\n  ? !!python/tuple [a]\n  : 1\n")
    assert src.data is None
    assert [(e.line, e.field) for e in src.errors] == [(3, "unit.<<"), (4, "unit")]


def test_a_tag_only_in_an_alias_is_reported_once() -> None:
    src = parse("a: &x !!binary aGk=\nb: [*x, *x, *x]\n")
    assert [(e.line, e.field) for e in src.errors] == [(1, "a")]


def test_plain_tags_written_out_are_fine() -> None:
    src = parse("a: !!str 10\nb: !!int '3'\nc: !!bool yes\nd: !!null ''\ne: !!float 1\nf: !!map {x: 1}\n"
                "g: !!seq [1]\nh: !!timestamp 2023-01-02\ni: =\n")
    assert src.errors == []
    assert src.data["a"] == "10" and src.data["b"] == 3 and src.data["f"] == {"x": 1} and src.data["i"] == "="


def test_a_policy_with_a_tag_is_refused(tmp_path: Path) -> None:
    text = (ROOT / "policies" / "vn-network.yaml").read_text(encoding="utf-8")
    path = tmp_path / "vn-network.yaml"
    path.write_text(text.replace("id: vn-network\n", "id: !!python/object:builtins.str vn-network\n", 1),
                    encoding="utf-8")
    errors = [str(e) for e in lint_baseline_file(path)]
    assert len(errors) == 1 and ": id: tag !!python/object:builtins.str is not allowed" in errors[0]


def test_org_lint_says_so_and_fails(tmp_path: Path) -> None:
    path = tmp_path / "org.yaml"
    path.write_text(ORG.replace("  - id: huyen\n", "  - !!python/object:evil\n    id: huyen\n"), encoding="utf-8")
    result = CliRunner().invoke(org_cli, ["lint", str(path)])
    assert result.exit_code == 1
    assert f"{path}:4: units[0]: tag !!python/object:evil is not allowed" in result.output


def test_an_alias_graph_is_refused_by_its_expanded_size() -> None:
    lines = ['l0: &l0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 9)]
    src = parse("\n".join(lines) + "\n")
    assert src.data is None
    assert [str(e) for e in src.errors] == [f"<string>:?: (yaml): more than {MAX_NODES:,} values (alias expansion?)"]

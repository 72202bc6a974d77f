"""The remediation catalogue (``policies/remediation/*.yaml``, ``secscan.remediation/1``): for each
control that can be fixed safely on Windows, PowerShell 5.1 snippets to check, apply and undo the
fix, the Windows builds it applies to and its sources; for controls that must not be scripted,
guidance text naming each PC's evidence. Data only, like the baselines: this module loads and
lints it (every error ``FILE:LINE: FIELD: REASON``); ``secscan.remediate`` writes the scripts.

Lint, beyond the shape: every fix has check, apply and undo and at least one https source; the
snippets are ASCII, never ``exit`` (it would end the officer's whole script) and declare no
``param`` (the script does); a check only reads (no cmdlet or command that changes a setting);
helpers a fix ``uses`` exist and define the function they are named after; ``instead_of`` names a
fix of the same control; ``applies_when`` and guidance evidence are JMESPath over a HostReport
whose fact paths exist; a fix limited to some PCs has guidance for the others. Given the
baselines, every control exists and is judged on Windows, and the values a fix sets (``meets``)
satisfy the baseline's threshold at every level. The snippet rules live in
``remediation_snippets.py``; the PowerShell grammar itself is checked by the tests
(tree-sitter-powershell is a development dependency, not a runtime one).

A file with ``platform: linux`` holds POSIX sh fixes for Linux PCs (``linux: {label}`` instead of
``windows:``; snippets set ``ok`` and ``state`` instead of returning a hashtable; no guidance, no
``domain: gpo``); the same rules apply in shell terms, and the controls must be judged on Linux.
The tests run ``sh -n`` (dash) and, where installed, shellcheck over every snippet.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationError

from secscan.model.common import Contract, ShortText, Text
from secscan.model.policy import LEVELS, ControlId, Localized
from secscan.policy import expr
from secscan.policy.remediation_snippets import snippet_code, snippet_problems
from secscan.policy.source import LintError, PolicyError, Source, pydantic_errors, read

REMEDIATION_SCHEMA = "secscan.remediation/1"
# Windows 7 SP1: the oldest Windows that runs PowerShell 5.1 (WMF 5.1). A fix limited above it,
# or by ``applies_when``, must leave guidance for the PCs it does not cover.
OLDEST_BUILD = 7601

FixId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,63}$")]
# PowerShell Verb-Noun, or a POSIX shell function name (the Linux catalogue)
HelperName = Annotated[str, Field(pattern=r"^(?:[A-Z][A-Za-z0-9]*-[A-Z][A-Za-z0-9]*|[a-z][a-z0-9_]{1,63})$")]
Snippet = Annotated[str, Field(min_length=1, max_length=20_000)]


def _https(value: str) -> str:
    if not re.fullmatch(r"https://[^\s/]+/\S*", value):
        raise ValueError("must be an https:// address (a public page, e.g. Microsoft's documentation)")
    return value


class SourceRef(Contract):
    url: Annotated[str, Field(max_length=512), AfterValidator(_https)]
    title: ShortText


class WindowsRange(Contract):
    min_build: int = Field(default=OLDEST_BUILD, ge=0)
    max_build: int | None = Field(default=None, ge=0)
    label: ShortText  # for people: "Windows 7 SP1, 8.1, 10, 11"


class LinuxRange(Contract):
    label: ShortText  # for people: "Debian, Ubuntu and derivatives (apt)"


class Meets(Contract):
    """The value a fix sets, against a baseline parameter of its control: ``le`` means the value
    must be at most the threshold at every level (idle seconds), ``ge`` at least (length)."""

    param: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]*$")]
    value: int | float
    compare: Literal["le", "ge"]


class Helper(Contract):
    name: HelperName
    code: Snippet


class Fix(Contract):
    id: FixId
    control: ControlId
    title: Localized
    windows: WindowsRange | None = None  # a fix of a windows catalogue file: the builds it is for
    linux: LinuxRange | None = None  # a fix of a linux catalogue file (POSIX sh snippets)
    applies_when: Text | None = None  # JMESPath over the PC's HostReport, at generation
    instead_of: FixId | None = None  # an alternative, used only when asked for (--use ID)
    domain: Literal["local", "gpo"] = "local"  # gpo: a domain member takes it from the GPO
    reboot: bool = False
    meets: list[Meets] = Field(default_factory=list)
    note: Localized | None = None
    uses: list[HelperName] = Field(default_factory=list)
    sources: list[SourceRef] = Field(min_length=1)
    check: Snippet
    apply: Snippet
    undo: Snippet

    @property
    def platform(self) -> Literal["windows", "linux"]:
        return "linux" if self.linux is not None else "windows"

    @property
    def label(self) -> str:
        """For people: the OS versions the fix is for."""
        target = self.linux or self.windows
        return target.label if target is not None else ""


class EvidenceItem(Contract):
    label: Localized
    path: Text  # JMESPath over the PC's HostReport


class Guidance(Contract):
    control: ControlId
    title: Localized
    text: Localized
    evidence: list[EvidenceItem] = Field(default_factory=list)
    sources: list[SourceRef] = Field(default_factory=list)


class CatalogueFile(Contract):
    schema_: Literal["secscan.remediation/1"] = Field(alias="schema")
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,63}$")]
    version: ShortText
    platform: Literal["windows", "linux"]
    helpers: list[Helper] = Field(default_factory=list)
    fixes: list[Fix] = Field(default_factory=list)
    guidance: list[Guidance] = Field(default_factory=list)


@dataclass
class Catalogue:
    """Every file's fixes, helpers and guidance, compiled. ``fixes`` keeps file order (the order
    the script applies them in); ``guidance`` is by control."""

    files: dict[str, str] = field(default_factory=dict)  # catalogue id -> version
    helpers: dict[str, Helper] = field(default_factory=dict)
    fixes: dict[str, Fix] = field(default_factory=dict)
    guidance: dict[str, Guidance] = field(default_factory=dict)
    applies: dict[str, expr.Fn] = field(default_factory=dict)  # fix id -> applies_when
    evidence: dict[str, list[tuple[Localized, expr.Fn]]] = field(default_factory=dict)  # control -> items

    def fixes_for(self, control_id: str, use: Iterable[str] = (), platform: str = "windows") -> list[Fix]:
        """The ``platform``'s fixes that address ``control_id``: the default ones, each replaced by
        the alternative named in ``use`` (``rdp-off`` instead of ``rdp-nla``)."""
        chosen = set(use)
        out = []
        for fix in self.fixes.values():
            if fix.control != control_id or fix.platform != platform:
                continue
            if fix.instead_of is None:
                alternative = next((f for f in self.fixes.values() if f.instead_of == fix.id and f.id in chosen), None)
                out.append(alternative or fix)
        return out

    def controls(self, platform: str | None = None) -> list[str]:
        """Controls with a fix or guidance (for ``platform``, when given), in catalogue order."""
        fixes = [f.control for f in self.fixes.values() if platform in (None, f.platform)]
        return list(dict.fromkeys(fixes + (list(self.guidance) if platform in (None, "windows") else [])))

    def helper_order(self, fixes: Iterable[Fix]) -> list[Helper]:
        """The helpers these fixes use, in the catalogue's order, each once."""
        wanted = {name for f in fixes for name in f.uses}
        return [h for name, h in self.helpers.items() if name in wanted]


def default_catalogue_files() -> list[Path]:
    from secscan.runtime import data_dir

    folder = data_dir("policies") / "remediation"
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


def is_catalogue_file(path: str | Path) -> bool:
    """Whether a YAML file says it is a remediation catalogue (``schema: secscan.remediation/1``),
    read cheaply, for ``secscan policy lint FILES`` to tell it from a baseline."""
    try:
        head = Path(path).read_text(encoding="utf-8", errors="replace")[:65536]
    except OSError:
        return False
    return re.search(r"(?m)^schema:\s*['\"]?secscan\.remediation/", head) is not None


# --- loading and lint ----------------------------------------------------------------------------


def _host_schema() -> expr.SchemaView:
    from secscan.policy.baseline import subject_schema

    return subject_schema("host")


def _compile_path(src: Source, loc: tuple[str | int, ...], text: str) -> expr.Fn | None:
    try:
        ast = expr.parse(text)
        fn = expr.compile_expression(text)
    except Exception as exc:  # jmespath raises several types; each is a lint error here
        src.error(loc, f"not a valid JMESPath expression: {str(exc).splitlines()[0][:200]}")
        return None
    unknown = expr.analyse(ast, _host_schema()).unknown_paths
    if unknown:
        src.error(loc, f"reads {', '.join(unknown)}, which a HostReport does not have")
        return None
    return fn


def _check_file(path: str | Path) -> tuple[Source, CatalogueFile | None]:
    src = read(path)
    if src.errors and src.data is None:
        return src, None
    if not isinstance(src.data, dict):
        src.error((), "a remediation catalogue is a mapping with schema, id, version, platform and fixes or guidance")
        return src, None
    try:
        parsed = CatalogueFile.model_validate(src.data)
    except ValidationError as exc:
        pydantic_errors(src, exc)
        return src, None
    linux = parsed.platform == "linux"
    for i, helper in enumerate(parsed.helpers):
        for problem in snippet_problems(helper.code, "helper", parsed.platform):
            src.error(("helpers", i, "code"), problem)
        defines = (rf"(?m)^\s*{re.escape(helper.name)}\s*\(\s*\)" if linux
                   else rf"(?im)^\s*function\s+{re.escape(helper.name)}\b")
        if not re.search(defines, snippet_code(helper.code, shell=linux)):
            src.error(("helpers", i, "code"), f"does not define function {helper.name}")
        if linux != (helper.name[0].islower()):
            src.error(("helpers", i, "name"), "a PowerShell helper is named Verb-Noun, a shell one lower_case")
    if linux and parsed.guidance:
        src.error(("guidance",), "guidance is written for Windows PCs only (guidance.yaml); a linux file holds fixes")
    for i, fix in enumerate(parsed.fixes):
        for kind in ("check", "apply", "undo"):
            for problem in snippet_problems(getattr(fix, kind), kind, parsed.platform):  # type: ignore[arg-type]
                src.error(("fixes", i, kind), problem)
        if (fix.linux is None) == linux or (fix.windows is not None) == linux:
            src.error(("fixes", i), f"a fix of a {parsed.platform} file has {'linux' if linux else 'windows'}: "
                                    f"and not {'windows' if linux else 'linux'}:")
            continue
        if linux and fix.domain != "local":
            src.error(("fixes", i, "domain"), "domain: gpo is for Windows fixes")
        builds = fix.windows
        if builds is not None and builds.max_build is not None and builds.max_build < builds.min_build:
            src.error(("fixes", i, "windows", "max_build"), "is below min_build")
        if not fix.title.en or (fix.note is not None and not fix.note.en):
            src.error(("fixes", i, "title"), "title and note need Vietnamese and English")
    for i, item in enumerate(parsed.guidance):
        if not item.text.en or not item.title.en:
            src.error(("guidance", i, "text"), "guidance needs Vietnamese and English")
    return src, parsed


def check_catalogue(paths: Iterable[str | Path] | None = None,
                    baselines: Iterable[Any] | None = None) -> tuple[Catalogue | None, list[LintError]]:
    """Load and lint the catalogue ``paths`` (default: the shipped ``policies/remediation/*.yaml``)
    as one catalogue. ``baselines`` (CompiledBaseline objects): also check controls and ``meets``
    against them. Returns (catalogue or None when anything is wrong, every error)."""
    paths = list(default_catalogue_files() if paths is None else paths)
    errors: list[LintError] = []
    cat = Catalogue()
    where: dict[tuple[str, str], tuple[Source, tuple[str | int, ...]]] = {}
    loaded: list[tuple[Source, CatalogueFile]] = []
    if not paths:
        return None, [LintError("policies/remediation", None, "(files)", "no remediation catalogue found")]
    for path in paths:
        src, parsed = _check_file(path)
        if parsed is None:
            errors += src.errors
            continue
        if parsed.id in cat.files:
            src.error(("id",), f"catalogue id {parsed.id!r} is used by another file too")
        cat.files[parsed.id] = parsed.version
        for i, helper in enumerate(parsed.helpers):
            if helper.name in cat.helpers:
                src.error(("helpers", i, "name"), f"helper {helper.name} is defined twice")
            cat.helpers[helper.name] = helper
        for i, fix in enumerate(parsed.fixes):
            if fix.id in cat.fixes:
                src.error(("fixes", i, "id"), f"fix id {fix.id!r} is used twice")
            cat.fixes[fix.id] = fix
            where[("fix", fix.id)] = (src, ("fixes", i))
            if fix.applies_when:
                fn = _compile_path(src, ("fixes", i, "applies_when"), fix.applies_when)
                if fn is not None:
                    cat.applies[fix.id] = fn
        for i, item in enumerate(parsed.guidance):
            if item.control in cat.guidance:
                src.error(("guidance", i, "control"), f"guidance for {item.control} is given twice")
            cat.guidance[item.control] = item
            where[("guidance", item.control)] = (src, ("guidance", i))
            compiled = []
            for j, ev in enumerate(item.evidence):
                fn = _compile_path(src, ("guidance", i, "evidence", j, "path"), ev.path)
                if fn is not None:
                    compiled.append((ev.label, fn))
            cat.evidence[item.control] = compiled
        loaded.append((src, parsed))
    for fix_id, fix in cat.fixes.items():
        src, loc = where[("fix", fix_id)]
        for name in fix.uses:
            if name not in cat.helpers:
                src.error((*loc, "uses"), f"helper {name} is not defined in any catalogue file")
        code = snippet_code(fix.check + "\n" + fix.apply + "\n" + fix.undo, shell=fix.platform == "linux")
        for name in cat.helpers:
            if name not in fix.uses and re.search(rf"(?<![\w-]){re.escape(name)}\b", code):
                src.error((*loc, "uses"), f"the snippets call helper {name}: list it in uses")
        if fix.instead_of is not None:
            base = cat.fixes.get(fix.instead_of)
            if base is None or base.control != fix.control or base.instead_of is not None:
                src.error((*loc, "instead_of"), f"{fix.instead_of!r} is not a default fix of control {fix.control}")
        limited = fix.applies_when is not None or (
            fix.windows is not None and (fix.windows.min_build > OLDEST_BUILD or fix.windows.max_build))
        if limited and fix.platform == "windows" and fix.control not in cat.guidance:
            src.error((*loc, "windows" if not fix.applies_when else "applies_when"),
                      f"covers only some PCs: give guidance for {fix.control} for the others")
    if baselines is not None:
        _check_against_baselines(cat, list(baselines), where)
    for src, _ in loaded:
        errors += src.errors
    return (None if errors else cat), errors


def _check_against_baselines(cat: Catalogue, baselines: list[Any],
                             where: dict[tuple[str, str], tuple[Source, tuple[str | int, ...]]]) -> None:
    controls: dict[str, list[Any]] = {}
    for compiled in baselines:
        for control in compiled.baseline.controls:
            controls.setdefault(control.id, []).append((compiled, control))
    names = ", ".join(b.id for b in baselines) or "none"
    items = [("fix", f.id, f.control) for f in cat.fixes.values()] + [("guidance", c, c) for c in cat.guidance]
    for kind, key, control_id in items:
        src, loc = where[(kind, key)]
        found = controls.get(control_id)
        if not found:
            src.error((*loc, "control"), f"control {control_id!r} is in no baseline ({names})")
            continue
        platform = cat.fixes[key].platform if kind == "fix" else "windows"
        families = {fam for _, c in found for fam in (c.applies_to.os_family or [platform])}
        if platform not in families:
            src.error((*loc, "control"), f"control {control_id!r} is not judged on {platform.title()}")
        if kind != "fix":
            continue
        for j, meets in enumerate(cat.fixes[key].meets):
            judged = [(b, c.params[meets.param]) for b, c in found if meets.param in c.params]
            if not judged:
                src.error((*loc, "meets", j, "param"), f"no baseline gives {control_id} a parameter {meets.param!r}")
            for baseline, param in judged:
                for level in LEVELS:
                    limit = param.at(level)
                    if not isinstance(limit, int | float) or isinstance(limit, bool):
                        continue
                    ok = meets.value <= limit if meets.compare == "le" else meets.value >= limit
                    if not ok:
                        sign = "<=" if meets.compare == "le" else ">="
                        src.error((*loc, "meets", j, "value"),
                                  f"{meets.value} does not meet {baseline.id} {control_id}.{meets.param} at level "
                                  f"{level} (needs {sign} {limit})")


def load_catalogue(paths: Iterable[str | Path] | None = None, baselines: Iterable[Any] | None = None) -> Catalogue:
    """The catalogue, or PolicyError with every lint error."""
    cat, errors = check_catalogue(paths, baselines)
    if cat is None:
        raise PolicyError(errors)
    return cat

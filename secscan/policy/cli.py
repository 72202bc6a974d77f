"""``secscan policy lint``, ``secscan org lint``, ``secscan evaluate``."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Any

import click

from secscan.policy.source import LintError


def _print_errors(errors: list[LintError]) -> None:
    for error in errors:
        click.echo(str(error), err=True)


@click.group()
def policy() -> None:
    """Policy baselines (policies/*.yaml)."""


@policy.command("lint")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
def policy_lint(files: tuple[Path, ...]) -> None:
    """Lint baseline FILES (default: the shipped policies and remediation catalogue). Errors:
    FILE:LINE: FIELD: REASON. A file with ``schema: secscan.remediation/1`` is linted as a
    remediation catalogue, checked against the baselines given and the shipped ones."""
    from secscan.policy.baseline import check_baseline_file, default_policy_files
    from secscan.policy.remediation import default_catalogue_files, is_catalogue_file

    paths = list(files) or default_policy_files()
    catalogue_paths = [p for p in paths if is_catalogue_file(p)] if files else default_catalogue_files()
    paths = [p for p in paths if p not in catalogue_paths]
    failed = False
    ids: dict[str, Path] = {}
    good = []
    for path in paths:
        compiled, errors = check_baseline_file(path)
        if compiled is not None and compiled.id in ids:
            errors = [*errors, LintError(str(path), compiled.id_line, "id",
                                         f"baseline id {compiled.id!r} also used by {ids[compiled.id]}")]
        if errors:
            failed = True
            _print_errors(errors)
        elif compiled is not None:
            ids[compiled.id] = path
            good.append(compiled)
            click.echo(f"{path}: ok ({compiled.id} {compiled.baseline.version}, {len(compiled.controls)} controls)")
    if catalogue_paths and not _lint_catalogue(catalogue_paths, good, set(ids)):
        failed = True
    if failed:
        sys.exit(1)


def _lint_catalogue(paths: list[Path], baselines: list[Any], given: set[str]) -> bool:
    """The remediation catalogue, against the baselines linted here and the shipped ones."""
    from secscan.policy.baseline import load_baselines
    from secscan.policy.remediation import check_catalogue
    from secscan.policy.source import PolicyError

    # a broken shipped baseline is reported by its own lint; the catalogue is checked against the rest
    with contextlib.suppress(PolicyError):
        baselines = baselines + [b for b in load_baselines().values() if b.id not in given]
    catalogue, errors = check_catalogue(paths, baselines)
    if catalogue is None:
        _print_errors(errors)
        return False
    listed = ", ".join(f"{k} {v}" for k, v in catalogue.files.items())
    against = ", ".join(b.id for b in baselines)
    click.echo(f"{', '.join(str(p) for p in paths)}: ok (remediation catalogue {listed}: {len(catalogue.fixes)} fixes "
               f"for {len({f.control for f in catalogue.fixes.values()})} controls, "
               f"guidance for {len(catalogue.guidance)} controls; checked against {against})")
    return True


@click.group()
def org() -> None:
    """The organisation file (org.yaml): units, networks, security-level decisions."""


@org.command("lint")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def org_lint(file: Path) -> None:
    """Lint FILE. Errors: FILE:LINE: FIELD: REASON."""
    from secscan.policy.org import check_org_file

    loaded, errors = check_org_file(file)
    if errors or loaded is None:
        _print_errors(errors)
        sys.exit(1)
    levels = {u.id: loaded.level_of(u.id) for u in loaded.units}
    click.echo(f"{file}: ok ({len(loaded.units)} units, {len(loaded.decisions)} decision(s), "
               f"levels {', '.join(f'{k}={v}' for k, v in levels.items())})")


def _report_files(paths: tuple[Path, ...]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        out += sorted(path.rglob("*.json")) if path.is_dir() else [path]
    return out


def _read_report(path: Path) -> tuple[str, dict[str, Any]]:
    """(kind, validated document); raises click.ClickException naming file, field and reason."""
    from pydantic import ValidationError

    from secscan.model.host import HostReport
    from secscan.model.scan import ScanReport

    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{path}: cannot read: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"{path}: line {exc.lineno}: not JSON: {exc.msg}") from exc
    kind = raw.get("schema") if isinstance(raw, dict) else None
    model = {"secscan.host-report/1": HostReport, "secscan.scan-report/1": ScanReport}.get(kind)  # type: ignore[arg-type]
    if model is None:
        raise click.ClickException(f"{path}: schema: expected secscan.host-report/1 or secscan.scan-report/1, "
                                   f"got {kind!r}")
    try:
        report = model.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(document)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise click.ClickException(f"{path}: {where}: {err['msg']}{more}") from exc
    return ("host" if model is HostReport else "scan"), report.model_dump(mode="json", by_alias=True)


@click.command()
@click.option("--org", "org_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="org.yaml")
@click.option("--baseline", "baseline_ref", default=None,
              help="baseline id among policies/, or a YAML file (default: org.yaml's, else vn-endpoint-nd85-tt12)")
@click.option("--json", "as_json", is_flag=True,
              help='print {"hosts": OrgSummary, "network": OrgSummary | null} as JSON')
@click.option("--results", "results_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="also write every Result as NDJSON to this file")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option("--controls", "show_controls", is_flag=True, help="also print the pass rate of every control per unit")
@click.argument("reports", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def evaluate(org_file: Path, baseline_ref: str | None, as_json: bool, results_file: Path | None, lang: str,
             show_controls: bool, reports: tuple[Path, ...]) -> None:
    """Judge REPORTS (HostReport/ScanReport JSON files or directories) per unit of org.yaml."""
    from secscan.policy.baseline import DEFAULT_BASELINE, load_baseline, load_baselines
    from secscan.policy.evaluate import evaluate_reports, evaluate_scan
    from secscan.policy.org import load_org
    from secscan.policy.source import PolicyError
    from secscan.policy.summary import summarise

    try:
        organisation = load_org(org_file)
        ref = baseline_ref or organisation.baseline or DEFAULT_BASELINE
        if ref.endswith((".yaml", ".yml")):
            baseline = load_baseline(ref)
        else:
            known = load_baselines()
            if ref not in known:
                raise click.ClickException(f"--baseline: unknown baseline {ref!r} (known: {', '.join(sorted(known))})")
            baseline = known[ref]
    except PolicyError as exc:
        _print_errors(exc.errors)
        sys.exit(1)
    hosts, scans = [], []
    for path in _report_files(reports):
        kind, doc = _read_report(path)  # every input validated before anything is judged
        (hosts if kind == "host" else scans).append(doc)
    results, unplaced = evaluate_reports(hosts, organisation, baseline)
    network = [r for scan in scans for r in evaluate_scan(scan, organisation, baseline)]
    summary = summarise(results, organisation, baseline, unplaced)
    network_summary = summarise(network, organisation, baseline) if scans else None
    if results_file is not None:
        with results_file.open("w", encoding="utf-8") as fh:
            for result in results + network:
                fh.write(result.model_dump_json() + "\n")
    if as_json:
        doc = {"hosts": summary.model_dump(mode="json"),
               "network": network_summary.model_dump(mode="json") if network_summary else None}
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        from secscan.policy.table import print_controls, print_network, print_summary

        print_summary(summary, baseline, lang)
        if show_controls:
            print_controls(summary, baseline, lang)
        if network_summary is not None:
            print_network(network_summary, lang)

"""Policy stage: org.yaml and baselines as data; judge every host and every unit.

The API other stages call (see docs/policy-api.md)."""

from secscan.policy.baseline import (
    DEFAULT_BASELINE,
    CompiledBaseline,
    Verdict,
    default_baseline,
    lint_baseline_file,
    load_baseline,
    load_baselines,
)
from secscan.policy.evaluate import (
    evaluate_host,
    evaluate_reports,
    evaluate_scan,
    judge_document,
    judge_documents,
    place_host,
)
from secscan.policy.org import lint_org_file, load_org
from secscan.policy.source import LintError, PolicyError
from secscan.policy.summary import summarise, summarise_judged

__all__ = [
    "DEFAULT_BASELINE",
    "CompiledBaseline",
    "LintError",
    "PolicyError",
    "Verdict",
    "default_baseline",
    "evaluate_host",
    "evaluate_reports",
    "evaluate_scan",
    "judge_document",
    "judge_documents",
    "lint_baseline_file",
    "lint_org_file",
    "load_baseline",
    "load_baselines",
    "load_org",
    "place_host",
    "summarise",
    "summarise_judged",
]

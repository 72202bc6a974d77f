"""Policy stage: org.yaml and baselines as data; judge every host and every unit.

The API other stages call (see docs/policy-api.md). The names below load on first use (PEP 562),
as in ``secscan.model``: ``secscan scan`` reads org.yaml with ``secscan.policy.source`` (the
bounded, line-numbered YAML reader) before nmap starts, and must not pay for the evaluator, the
baselines' models and JMESPath there (~170 ms).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_WHERE = {
    "DEFAULT_BASELINE": "baseline",
    "CompiledBaseline": "baseline",
    "Verdict": "baseline",
    "default_baseline": "baseline",
    "lint_baseline_file": "baseline",
    "load_baseline": "baseline",
    "load_baselines": "baseline",
    "evaluate_host": "evaluate",
    "evaluate_reports": "evaluate",
    "evaluate_scan": "evaluate",
    "judge_document": "evaluate",
    "judge_documents": "evaluate",
    "place_host": "evaluate",
    "lint_org_file": "org",
    "load_org": "org",
    "LintError": "source",
    "PolicyError": "source",
    "summarise": "summary",
    "summarise_judged": "summary",
}

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


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(f"secscan.policy.{_WHERE[name]}"), name)
    else:
        try:  # a submodule named as an attribute (secscan.policy.evaluate), as an eager package had it
            value = importlib.import_module(f"secscan.policy.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"secscan.policy.{name}":
                raise
            raise AttributeError(f"module 'secscan.policy' has no attribute {name!r}") from None
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})

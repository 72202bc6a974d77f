"""The words of each language (``reports/i18n/<lang>.yaml``), loaded once per process."""

from __future__ import annotations

from functools import cache
from typing import Any

from secscan.runtime import data_dir

LANGS = ("vi", "en")


def _yaml(relative: str) -> Any:
    import yaml

    path = data_dir("reports") / relative
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def data_file(relative: str) -> Any:
    """A YAML data file under ``reports/`` (words, evidence readings), parsed."""
    return _yaml(relative)


@cache
def texts(lang: str) -> dict[str, Any]:
    if lang not in LANGS:
        raise ValueError(f"--lang {lang}: unsupported (use one of {', '.join(LANGS)})")
    return _yaml(f"i18n/{lang}.yaml")

"""Shipped report data: the words of each language (``reports/i18n/<lang>.yaml``) and the exposure
rules (``reports/data/exposure.yaml``). Loaded once per process."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import Field

from secscan.model.common import Contract, ShortText
from secscan.model.finding import Severity
from secscan.report.inputs import Bilingual
from secscan.resources import data_dir

LANGS = ("vi", "en")


def _yaml(relative: str) -> Any:
    import yaml

    path = data_dir("reports") / relative
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@cache
def texts(lang: str) -> dict[str, Any]:
    if lang not in LANGS:
        raise ValueError(f"--lang {lang}: unsupported (use one of {', '.join(LANGS)})")
    return _yaml(f"i18n/{lang}.yaml")


class ExposureRule(Contract):
    port: int = Field(ge=0, le=65535)
    proto: str
    service: ShortText
    severity: Severity
    title: Bilingual
    remediation: Bilingual

    @property
    def control_id(self) -> str:
        return f"exposure.{self.port}/{self.proto}"


@cache
def exposure_rules() -> tuple[ExposureRule, ...]:
    return tuple(ExposureRule.model_validate(item) for item in _yaml("data/exposure.yaml"))

"""``secscan schema NAME``: the JSON Schema of a contract, generated from the pydantic model (the
command lives in the wiring: the contracts import only pydantic, not click)."""

from __future__ import annotations

import json

import click

from secscan.model.host import HostReport
from secscan.model.org import Organisation
from secscan.model.policy import Baseline
from secscan.model.result import OrgSummary, Result
from secscan.model.scan import ScanReport

CONTRACTS = {"host-report": HostReport, "scan-report": ScanReport, "org": Organisation, "baseline": Baseline,
             "result": Result, "org-summary": OrgSummary}


@click.command()
@click.argument("name", type=click.Choice(sorted(CONTRACTS)))
def schema(name: str) -> None:
    """Print the JSON Schema of contract NAME."""
    model = CONTRACTS[name]
    doc = model.model_json_schema(by_alias=True)
    doc["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    doc["$id"] = f"https://secscan.invalid/schema/{name}/1"
    click.echo(json.dumps(doc, indent=2, ensure_ascii=False))

"""Tables the agent and the capture decoder read (product names, KMS hosts, end-of-life dates).

TOML, because the agent may import only the standard library (tomllib) and these tables are
edited by hand. One file per table; ``load("remote_tools")`` reads ``remote_tools.toml``.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

_HERE = Path(__file__).parent


@cache
def load(name: str) -> dict[str, Any]:
    with open(_HERE / f"{name}.toml", "rb") as fh:
        return tomllib.load(fh)

"""A drawn demo PC as the raw Windows capture (``secscan.windows-capture/1``) that ``collect.ps1``
would print on it: ``secscan.synth.capture`` with the demo's seed."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from secscan.synth.capture import render_capture
from secscan.synth.pc import Pc


def render(pc: Pc, now: datetime, seed: int) -> dict[str, Any]:
    return render_capture(pc, now, random.Random(f"capture-{seed}-{pc.hostname}"))

"""Pause the cyclic garbage collector while building many small acyclic objects.

A province report holds ~10^5 live pydantic models; every few thousand new dicts or models the
collector walks all of them again. Findings and feed events make no reference cycles, so
pausing it during the bulk work is safe and removes most of the time (measured: summarise
2.6 s → 1.0 s for 10,000 hosts). Reference counting still frees everything as usual.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()

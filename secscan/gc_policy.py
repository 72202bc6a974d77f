"""When the cyclic garbage collector runs, in the processes that handle many documents (standard
library only: any stage may use it).

Parsing or decoding a batch of reports makes hundreds of thousands of container objects that
reference counting frees anyway; with the default threshold (700 allocations) the collector scans
them over and over, and everything live besides them each time it reaches the oldest generation.
That halved the import's speed (480 against 1,030 reports/s measured on a loaded 2-CPU machine)
and cost a quarter of a Windows capture's decoding.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def between_batches() -> Iterator[None]:
    """Collect cycles only between batches: call ``after_batch`` after each one, which still frees
    any cycle, so memory stays bounded by one batch. What is loaded when it starts (modules,
    models, tables) is frozen: never garbage, never scanned again."""
    enabled = gc.isenabled()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        gc.unfreeze()


def after_batch() -> None:
    if not gc.isenabled():
        gc.collect(1)


def long_lived_process() -> None:
    """A server or worker process: what is loaded now stays; young objects are collected less
    often (the thresholds of a process that handles a batch at a time)."""
    gc.freeze()
    gc.set_threshold(50_000, *gc.get_threshold()[1:])

"""What a running secscan needs from its surroundings and that belongs to no stage: where the
shipped data lives, when the cyclic garbage collector runs, what a command keeps until exit.
Standard library only, so any stage may import it (DESIGN.md; tests/test_imports.py holds it to that).

Shipped data: ``policies/`` and ``reports/`` at the top of a checkout, or ``secscan/_data/``
inside an installed wheel (pyproject.toml force-includes them there).

The GC: parsing, decoding or judging a batch of reports makes hundreds of thousands of container
objects that reference counting frees anyway; with the default threshold (700 allocations) the
cyclic collector scans them over and over, and everything live besides them each time it reaches
the oldest generation. That halved the import's speed (480 against 1,030 reports/s measured on a
loaded 2-CPU machine) and cost a quarter of a Windows capture's decoding.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """``data_dir("policies")`` or ``data_dir("reports")``."""
    installed = _PACKAGE / "_data" / name
    if installed.is_dir():
        return installed
    checkout = _PACKAGE.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"{name}/: shipped data not found (looked in {installed} and {checkout})")


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Bulk work that builds many small lists and tuples and no reference cycles (judging, the
    feed, a report's input): reference counting frees all of it, while the cyclic collector would
    keep re-scanning the young ones (about a fifth of the time of a large batch). Paused for the
    work, restored after, even on error."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


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


# What a command built that lives until the process ends (a province's report input: millions of
# objects). secscan.cli.main then ends the process without freeing them one by one, which took
# 1.5 s of a 17 s `secscan report pdf` (measured), once the output is flushed.
_KEPT: list[object] = []


def keep_until_exit(*objects: object) -> None:
    _KEPT[:] = objects


def objects_kept() -> bool:
    return bool(_KEPT)

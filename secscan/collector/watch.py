"""``collector import --watch DIR``: a drop folder (a share the PCs write to) processed again and again.

Each pass imports the files that have arrived and then moves each one out of the way: to
``DIR/done/`` once the store has committed it (accepted, or a duplicate of what it holds), to
``DIR/rejected/`` with ``NAME.reason.txt`` beside it otherwise. A file is moved only after the
commit, so a collector killed in the middle loses nothing; the file it was working on is imported
again on restart and comes back as a duplicate, so nothing is stored twice either.

A file is taken only once it has been left alone for ``min_age`` seconds: the shipped PowerShell
script writes a temporary name and renames it, but a person copying files onto the share does not.
Temporary (``*.tmp``) and hidden files, symbolic links and the two outcome folders are left alone.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from secscan.collector.importer import run_import
from secscan.collector.intake import CaptureDecoder
from secscan.collector.sources import ARCHIVE_SUFFIXES, REPORT_SUFFIXES

if TYPE_CHECKING:
    from secscan.collector.store import Store

DONE, REJECTED = "done", "rejected"
PER_PASS = 2_000  # files taken in one pass (one import, one commit)


@dataclass
class WatchPass:
    done: int = 0
    duplicate: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)


def candidates(folder: Path, min_age: float, now: float | None = None) -> list[Path]:
    """The files waiting in ``folder`` (and its unit sub-folders), oldest first."""
    now = time.time() if now is None else now
    found: list[tuple[float, str]] = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        top = Path(dirpath) == folder
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and not (top and d in (DONE, REJECTED)))
        for name in filenames:
            lower = name.lower()
            if name.startswith(".") or not lower.endswith(REPORT_SUFFIXES + ARCHIVE_SUFFIXES):
                continue
            path = os.path.join(dirpath, name)
            try:
                st = os.lstat(path)
            except OSError:  # gone meanwhile
                continue
            if stat.S_ISREG(st.st_mode) and now - st.st_mtime >= min_age:
                found.append((st.st_mtime, path))
    return [Path(p) for _, p in sorted(found)]


def _free_name(target: Path) -> Path:
    if not target.exists():
        return target
    for n in range(1, 10_000):
        other = target.with_name(f"{target.name}.{n}")
        if not other.exists():
            return other
    raise FileExistsError(f"{target}: 10,000 files of that name already")


def _move(folder: Path, path: Path, outcome: str, reason: str | None = None) -> None:
    target = _free_name(folder / outcome / path.relative_to(folder))
    target.parent.mkdir(parents=True, exist_ok=True)
    if reason is not None:  # first: a pass killed before the move writes it again next time
        target.with_name(target.name + ".reason.txt").write_text(reason + "\n", encoding="utf-8")
    os.replace(path, target)


def watch_once(store: Store, folder: Path, *, decoder: CaptureDecoder | None, unit: str | None = None,
               require_signature: bool = False, min_age: float = 5.0) -> WatchPass:
    files = candidates(folder, min_age)[:PER_PASS]
    result = WatchPass()
    if not files:
        return result
    summary = run_import(store, [str(f) for f in files], decoder=decoder, unit=unit,
                         require_signature=require_signature)
    # the committed import's refusals, by file (a zip's members are named "archive.zip!member")
    reasons: dict[str, list[str]] = {}
    for name, reason in summary.rejected:
        reasons.setdefault(name.split("!", 1)[0] if "!" in name else name, []).append(
            f"{name.split('!', 1)[1]}: {reason}" if "!" in name else reason)
    for f in files:
        why = reasons.get(str(f))
        if why:
            _move(folder, f, REJECTED, "\n".join(why))
            result.rejected.append((str(f), why[0]))
        else:
            _move(folder, f, DONE)
            result.done += 1
    result.duplicate = summary.duplicate
    return result


def watch(store: Store, folder: Path, *, decoder: CaptureDecoder | None, unit: str | None = None,
          require_signature: bool = False, interval: float = 30.0, min_age: float = 5.0,
          on_pass: Callable[[WatchPass], None] | None = None, passes: int | None = None) -> None:
    """Pass after pass until interrupted (or ``passes`` passes, for tests)."""
    n = 0
    while passes is None or n < passes:
        result = watch_once(store, folder, decoder=decoder, unit=unit, require_signature=require_signature,
                            min_age=min_age)
        if on_pass is not None:
            on_pass(result)
        n += 1
        if passes is None or n < passes:
            time.sleep(interval)

"""The steps of a long command shown on the terminal: each step's name with a spinner while it
runs and its time once done, on stderr, and only when stderr is a terminal. In a pipe, a file or
CI nothing is drawn and nothing is added to the output: the steps are then empty contexts.

The report stage names its steps through ``secscan.report.cli.step`` (it never imports rich or
this module); ``secscan report`` hands it these as the click context's ``STEPS`` entry.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TextIO

Steps = Callable[[str], AbstractContextManager[object]]


def quiet(label: str) -> AbstractContextManager[object]:
    return nullcontext()


class TerminalSteps:
    """A spinner with the step's name while it runs, then a line with its time (✓) or ✗ when it
    failed, so the user sees where the time went. Nothing is drawn between steps: what the
    command prints there (a warning, its closing line) goes to the terminal as it is."""

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console

        self.console = Console(file=stream, highlight=False)

    @contextmanager
    def __call__(self, label: str) -> Iterator[None]:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        start, mark = time.perf_counter(), "✗"
        # stdout is never redirected: the feed and the CSV are written there
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=self.console,
                      refresh_per_second=4, transient=True, redirect_stdout=False, redirect_stderr=False) as bar:
            bar.add_task(label, total=None)
            try:
                yield
                mark = "✓"
            finally:
                bar.stop()
                self.console.print(f"{mark} {label}  {time.perf_counter() - start:.1f} s", markup=False)


def terminal_steps(stream: TextIO | None = None) -> Steps:
    """The steps display for ``stream`` (default stderr); quiet unless it is a terminal."""
    stream = stream or sys.stderr
    return TerminalSteps(stream) if stream.isatty() else quiet

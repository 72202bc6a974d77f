"""Where the shipped data lives: ``policies/`` and ``reports/`` at the top of a checkout, or
``secscan/_data/`` inside an installed wheel (pyproject.toml force-includes them there)."""

from __future__ import annotations

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

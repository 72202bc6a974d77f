"""The endpoint agent: collect facts on one PC, never judge them. Imports only the standard
library, psutil, click and secscan.model (tests/test_imports.py enforces it)."""

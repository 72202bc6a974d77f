"""Exceptions a probe raises to say *why* it has no fact; the runner turns each into a status.

    ProbeFailure                 -> error
    ├── ProbeUnsupported         -> unsupported (wrong OS, tool not installed)
    ├── ProbeDenied              -> denied (needs root / admin)
    └── ProbeTimeout             -> timeout
"""


class ProbeFailure(Exception):
    status = "error"


class ProbeUnsupported(ProbeFailure):
    status = "unsupported"


class ProbeDenied(ProbeFailure):
    status = "denied"


class ProbeTimeout(ProbeFailure):
    status = "timeout"

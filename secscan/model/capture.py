"""The Windows capture contract that the collector and the agent share without importing each other.

``SCRIPT_VERSION`` is the version collect.ps1 writes into each capture (``script_version``); the
collector flags PCs whose script is older. A test ties the script's own value to this one.
"""

CAPTURE_SCHEMA = "secscan.windows-capture/1"
SCRIPT_VERSION = 2

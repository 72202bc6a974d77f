"""Windows: one PowerShell capture (collect.ps1), decoded into a HostReport.

``collect(timeout)`` runs the script on this PC (one PowerShell start) and decodes its output;
``decode_capture(raw)`` decodes a capture made elsewhere; ``script_text()`` is the script as
``secscan agent script windows`` exports it.
"""

from secscan.agent.windows.capture import CaptureError
from secscan.agent.windows.decode import decode_capture
from secscan.agent.windows.run import collect, script_text

__all__ = ["CaptureError", "collect", "decode_capture", "script_text"]

"""secscan: information-security posture checker for Vietnamese local-government offices."""

__version__ = "0.1.0"
__all__ = ["__version__"]

"""terrafuse: an open Earth-observation processing platform.

This module stays light (the SDK surface); the server lives in the subpackages and needs the
``server`` extra.
"""

__version__ = "0.1.0"
__version_date__ = "2026-11-22T00:00:00Z"

__all__ = ["__version__", "__version_date__"]

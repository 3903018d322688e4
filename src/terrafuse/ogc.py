"""``terrafuse.ogc``: a small client for any OGC API - Processes server.

The code lives in :mod:`terrafuse.sdk.ogc`; this module is its public name.
"""

from terrafuse.sdk.ogc import *  # noqa: F403
from terrafuse.sdk.ogc import __all__  # noqa: F401

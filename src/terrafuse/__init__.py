"""terrafuse: an open Earth-observation processing platform, and its Python SDK.

``import terrafuse`` gives the SDK, a light client that needs no server packages::

    import terrafuse
    user = terrafuse.login(email="me@org.com", password="MyPassword123!",
                           api_url="http://127.0.0.1:8000/api")
    organisation = next(user.organisations)

The SDK runs the Fusion Platform SDK guide's code with ``import terrafuse as fusion_platform``.
Its objects: ``User``, ``Organisation``, ``Credit``, ``Data``, ``File``, ``Service``, ``Process``,
``Execution``, ``Component``, ``Log`` (each with ``help()``); the constants ``FILE_TYPE_*``,
``DATA_TYPE_*`` and ``RUN_TYPE_*``; the example regions ``EXAMPLE_GLASGOW_FILE`` and
``EXAMPLE_LAKE_DISTRICT_FILE``; ``set_progress(False)`` to turn progress bars off; and
``terrafuse.ogc``, a client for any OGC API - Processes server.

The server (``terrafuse serve``) lives in the subpackages and needs the ``server`` extra.
"""

# The SDK is this package's public surface (``ogc`` included: ``terrafuse.ogc.OGCClient`` works
# after a plain ``import terrafuse``).
from terrafuse.sdk import *  # noqa: F403
from terrafuse.sdk import __all__ as _sdk_names

__version__ = "0.1.0"
__version_date__ = "2026-11-22T00:00:00Z"

__all__ = [*_sdk_names, "__version__", "__version_date__"]

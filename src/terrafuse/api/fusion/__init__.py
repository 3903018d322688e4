"""The Fusion-compatible platform API (``/api/...``): wire helpers now, routes later (issue #3)."""

"""OGC API - Processes documents, parsing and callbacks (no FastAPI routes)."""

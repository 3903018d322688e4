"""The HTTP faces of the platform (FastAPI only here)."""

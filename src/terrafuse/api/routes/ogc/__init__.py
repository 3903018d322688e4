"""OGC API - Processes routes."""

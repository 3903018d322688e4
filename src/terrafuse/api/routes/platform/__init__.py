"""The platform API under ``/api``, wire-compatible with the Fusion Platform SDK."""

"""Domain models and rules; no I/O."""

"""The built-in service catalogue."""

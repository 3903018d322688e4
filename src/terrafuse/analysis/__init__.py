"""Analysis of uploaded files."""

"""Finding and reading Earth-observation data (STAC, COG windows)."""

"""Demo data: a STAC catalog of bundled and generated scenes."""

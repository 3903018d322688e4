"""Tests of terrafuse.ingest."""

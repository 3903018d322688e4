"""Tests of terrafuse.services."""

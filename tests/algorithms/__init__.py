"""Tests of terrafuse.algorithms."""

"""Tests of the monitoring engine: profiles, windows, hostile batches (no database)."""

"""Tests of continuous monitoring (issue #14)."""

"""Continuous monitoring of deployed versions (issue #14)."""

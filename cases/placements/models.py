"""Placement files (bulk account imports)."""

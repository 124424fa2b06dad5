"""REST API for customers and how to reach them (DESIGN.md, Contracts)."""

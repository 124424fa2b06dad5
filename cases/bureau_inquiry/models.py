"""Credit bureau inquiries (reports, skip trace)."""

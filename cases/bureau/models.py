"""Credit bureau furnishing (Metro 2 files, submissions)."""

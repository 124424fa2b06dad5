"""Outside collection agencies (委外)."""

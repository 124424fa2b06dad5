"""Payment statement files and the suspense queue."""

"""Models of the ordering app (built in its own issue)."""

"""Models of the sensing app (built in its own issue)."""

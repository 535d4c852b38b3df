"""Models of the checkout app (built in its own issue)."""

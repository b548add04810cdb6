"""Per-user interface preferences."""

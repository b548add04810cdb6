"""Image tools."""

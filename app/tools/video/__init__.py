"""Video tools."""

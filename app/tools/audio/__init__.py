"""Audio tools."""

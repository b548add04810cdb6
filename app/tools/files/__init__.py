"""Files tools."""

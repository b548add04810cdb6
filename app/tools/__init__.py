"""The tool catalog: one module per tool, grouped by section."""

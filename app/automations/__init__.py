"""Automations: watch folders and scheduled pipelines that run as jobs of their owner."""

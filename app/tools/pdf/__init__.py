"""Pdf tools."""

"""The browser UI: one HTML shell, plain ES modules and one stylesheet, served by the same app."""

"""Bounded admission: limits on concurrent uploads, queued jobs and disk use, checked before a body is read."""

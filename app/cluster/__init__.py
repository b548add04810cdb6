"""Scale-out mode (REDIS_URL set): Celery executor, Redis event bus, worker registry, leases.

Nothing here is imported in the embedded mode, so Celery and Redis stay unloaded there.
"""

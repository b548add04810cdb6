"""Names of everything Lutra keeps in Redis, in one place (all under the `lutra:` prefix)."""

from __future__ import annotations

PREFIX = "lutra:"
EVENTS = PREFIX + "events:"  # + job id: pub/sub channel of a job's progress events
EVENTS_PATTERN = EVENTS + "*"
LATEST = PREFIX + "latest:"  # + job id: the newest event of a running job (late SSE clients start here)
CANCEL = PREFIX + "cancel:"  # + job id: set when a job is to stop; workers poll it
OUTCOME = PREFIX + "outcome:"  # + job id: a finished task's outcome, beside the reply message
NODE = PREFIX + "node:"  # + node id: the reply channel of one API node (started / progress / done)
RUNNING = PREFIX + "running"  # hash job id -> {"worker", "at"}: tasks running now, with their heartbeat
WORKERS = PREFIX + "workers"  # hash worker name -> its description (host, queues, concurrency, jobs)
WORKERS_SEEN = PREFIX + "workers:seen"  # sorted set worker name -> last heartbeat (unix time)
VERSION = PREFIX + "version"  # the API nodes' Lutra version, for the workers' start-up check
AUTH_INVALIDATE = PREFIX + "auth:invalidate"  # pub/sub: credentials whose cached principal must go
LEASE = PREFIX + "lease:"  # + name: who holds a single-node duty (see lease.py)

QUEUES = ("default", "gpu")
LATEST_TTL_S = 24 * 3600  # a crashed publisher never leaves a "latest" behind for good
OUTCOME_TTL_S = 3600
WORKER_BEAT_S = 5.0  # how often a worker refreshes its registry entry
WORKER_ONLINE_S = 3 * WORKER_BEAT_S  # an entry older than this is a worker gone

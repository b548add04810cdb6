"""The Celery application shared by API nodes (which send tasks) and `lutra worker` (which runs them).

Celery is the queue and the worker pool; results, progress and cancellation travel on Lutra's own
Redis channels (keys.py), so an API node awaits a result without a thread per waiting job.
"""

from __future__ import annotations

from celery import Celery

from app.cluster import keys

RUN_TASK = "lutra.run_job"
INSTALL_TASK = "lutra.install_bundle"  # AI model downloads, onto the shared models folder


def make_celery(redis_url: str) -> Celery:
    app = Celery("lutra", broker=redis_url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_default_queue=keys.QUEUES[0],
        # Acknowledged on receipt: a lost worker's job is ended by the heartbeat reaper, never run
        # twice by a late redelivery (Redis redelivers only after the visibility timeout).
        task_acks_late=False,
        worker_prefetch_multiplier=1,
        # A worker takes a task only when it has a free slot: a busy worker hoards none that another
        # could run now, and no task waits reserved in a busy worker's buffer long enough for the
        # broker's visibility timeout to hand it out a second time (it would run twice).
        worker_disable_prefetch=True,
        broker_connection_retry_on_startup=False,
        broker_connection_timeout=3,
        broker_transport_options={"socket_connect_timeout": 3, "socket_timeout": 5},
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        task_send_sent_event=False,
    )
    return app

"""How a service queues background work: by the task's name, with ids only.

Services never import task modules (tasks import services, so the other direction would
be a cycle) and never reach an app above their own: they name the task. ``enqueue``
sends it after the caller's transaction commits, with ids only, so a worker never sees
a row that was rolled back and no personal text travels on the broker.
"""

from __future__ import annotations

from celery import current_app
from django.db import InterfaceError, OperationalError, transaction

# The options of a periodic task whose every effect is recorded once (so a retry is safe):
# a lost connection or a deadlock is worth another try soon, anything else waits for the
# next beat. ``@shared_task(name=..., **RETRY_ON_DATABASE_ERRORS)``.
RETRY_ON_DATABASE_ERRORS = {
    "acks_late": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 30,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 3,
}


def task_by_name(name: str):
    """The registered task ``name``. Task modules are imported on first use (Celery's
    autodiscovery is lazy in the web process); an unknown name is a programming error."""
    app = current_app
    if name not in app.tasks:
        app.loader.import_default_modules()
    try:
        return app.tasks[name]
    except KeyError:
        raise LookupError(f"no Celery task named {name!r} is registered") from None


def enqueue(name: str, *args: int | str, **kwargs: int | str | None) -> None:
    """Queue task ``name`` once the current transaction commits (at once outside one).

    Arguments are ids and small scalars: whatever a task needs it loads by id.
    """
    task = task_by_name(name)
    transaction.on_commit(lambda: task.apply_async(args=args, kwargs=kwargs))


def send(name: str, *args: int | str, **kwargs: int | str | None) -> None:
    """Queue task ``name`` now: for a task fanning out work whose rows it has already
    committed (a job dispatching its chunks), where waiting for a commit means nothing."""
    task_by_name(name).apply_async(args=args, kwargs=kwargs)

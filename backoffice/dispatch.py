"""Hand work to Celery by task name, after the caller's transaction commits.

A service that needs follow-up work in a worker (send this message, process
this file) must not import the task module that wraps it: the task module
imports the service, and the layers would circle. The service names the
task instead (the names are fixed strings, see each ``tasks`` module) and
this helper looks it up in Celery's registry, loading every app's tasks
module the first time a name is missing. With no broker configured the task
runs eagerly, in-process, as every other task does.
"""

from celery import Task
from django.db import transaction

from backoffice.celery import app


def registered_task(name: str) -> Task:
    """The registered task called ``name`` (``KeyError`` if no app defines it)."""
    try:
        return app.tasks[name]
    except KeyError:
        app.loader.import_default_modules()  # Celery's autodiscovery of every app's tasks module
        return app.tasks[name]


def enqueue_after_commit(name: str, *args, **kwargs) -> None:
    """Send task ``name`` with these arguments once the current transaction
    commits (at once outside a transaction); an unknown name fails now, not
    later."""
    task = registered_task(name)
    transaction.on_commit(lambda: task.delay(*args, **kwargs))

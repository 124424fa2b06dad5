"""The Celery application.

With no ``CELERY_BROKER_URL`` in the environment tasks run eagerly in the
calling process (see settings), so the demo needs no broker.
"""

import os

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

app = Celery("ledgerline")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

if app.conf.task_always_eager and not app.conf.broker_url:
    # No broker configured: tasks run in-process, but Celery still builds a
    # producer for each eager call. An in-memory transport keeps kombu from
    # falling back to an AMQP connection to localhost that nothing uses (and
    # from logging "No hostname was supplied" about it).
    app.conf.broker_url = "memory://localhost//"


@after_setup_logger.connect
@after_setup_task_logger.connect
def _redact_personal_data_in_worker_logs(logger=None, **kwargs):
    """A worker replaces the root logger's handlers with its own (and the
    task logger's): give those the same filter as ``settings.LOGGING``
    (issue #15, ``backoffice.logfilters``)."""
    from backoffice.logfilters import add_to_handlers

    if logger is not None:
        add_to_handlers(logger)

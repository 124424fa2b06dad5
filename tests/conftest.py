"""Shared fixtures: one user per role and API clients."""

import pytest
from rest_framework.test import APIClient

from tests.factories import UserFactory


@pytest.fixture
def admin_user(db):
    return UserFactory(username="root", is_superuser=True)


@pytest.fixture
def api(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


@pytest.fixture(autouse=True)
def celery_eager_unless_worker_test(request):
    """CI sets CELERY_BROKER_URL for the whole run; only tests marked
    ``celery_worker`` may send to the broker, the rest run tasks in-process."""
    from backoffice.celery import app

    if request.node.get_closest_marker("celery_worker"):
        yield
        return
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous

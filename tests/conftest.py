"""Shared fixtures: one user per role and API clients; how the suite runs in
parallel (pytest-xdist, ``-n auto`` in pyproject.toml)."""

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
def empty_cache():
    """Each test starts with an empty cache: the API throttles count requests
    there (issue #14), and one test's requests must not use up the next
    test's budget."""
    from django.core.cache import cache

    cache.clear()
    yield


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


def pytest_collection_modifyitems(config, items):
    """Tests that start a real Celery worker share the broker's queue, so they
    run on one xdist worker, one after another (``--dist loadgroup``). They
    and the browser tests are ``slow`` too: ``make test`` and CI run them,
    ``pytest -m "not slow"`` leaves them out of a quick local run."""
    for item in items:
        if item.get_closest_marker("celery_worker"):
            item.add_marker(pytest.mark.xdist_group("celery-worker"))
        if item.get_closest_marker("celery_worker") or item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session", autouse=True)
def files_in_a_private_directory(tmp_path_factory):
    """Uploads, letters, the SMS outbox and bureau files go under this test
    process's own temporary directory: parallel workers whose databases hand
    out the same ids never write the same path, and the working tree stays
    clean. Tests that need their own directory still override these."""
    from django.conf import settings

    base = tmp_path_factory.mktemp("files")
    settings.MEDIA_ROOT = base / "media"
    settings.SMS_FILE_PATH = base / "sms-outbox.jsonl"
    settings.METRO2_OUTBOX_DIR = base / "bureau-outbox"


@pytest.fixture(scope="session", autouse=True)
def second_factor_off_unless_a_test_turns_it_on():
    """The admin's second factor (``backoffice.second_factor``) is switched
    off for the suite, and ``tests/security/test_second_factor.py`` switches
    it on (``settings.OTP_ENFORCE = True``) for every test it runs.

    Why off rather than marking each ``client.force_login`` as verified: a
    verified session makes ``OTPMiddleware`` load its device on every request,
    one query more than the suite's query budgets (``django_assert_max_num_queries``
    on every list) were measured with, and it would mean a device row for
    every persona of every test. Production is not weakened: the setting's
    default is on, settings refuse it off unless ``DEBUG``, and the gate's
    own tests run with it on, including an administrator who reaches the
    admin only after verifying."""
    from django.conf import settings

    settings.OTP_ENFORCE = False

from datetime import date

import pytest

from backoffice.audit import system_user
from tests.dispatch_fixtures import worker_runs_when_enqueued, workers_idle  # noqa: F401

BUSINESS_DATE = date(2026, 3, 20)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Stored statement files go to a scratch directory."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def actor(db):
    return system_user()

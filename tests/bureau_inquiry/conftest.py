"""Fixtures: a fake bureau on 127.0.0.1 and settings pointing at it."""

from datetime import date

import pytest

from cases.bureau_inquiry.client import BureauClient, BureauConfig
from cases.models import Debt
from tests.bureau_inquiry.fake_bureau import FakeBureau
from tests.factories import CustomerFactory, make_debt


@pytest.fixture
def fake_bureau():
    server = FakeBureau().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def bureau_settings(settings, fake_bureau):
    settings.BUREAU_NAME = "test-bureau"
    settings.BUREAU_BASE_URL = fake_bureau.url
    settings.BUREAU_CLIENT_ID = "ledgerline"
    settings.BUREAU_API_KEY = "secret-key"
    settings.BUREAU_CONNECT_TIMEOUT = 2.0
    settings.BUREAU_READ_TIMEOUT = 0.3
    settings.BUREAU_MAX_RETRIES = 2
    settings.BUREAU_BACKOFF_BASE = 0.5
    settings.BUREAU_BACKOFF_MAX = 8.0
    settings.BUREAU_RETRY_AFTER_MAX = 30.0
    settings.BUREAU_RATE_LIMIT_PER_MINUTE = 1000
    settings.BUREAU_CIRCUIT_FAILURES = 3
    settings.BUREAU_CIRCUIT_COOLDOWN = 60.0
    return settings


class SleepRecorder:
    """Stands in for ``time.sleep``: records the waits, sleeps not."""

    def __init__(self):
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps():
    return SleepRecorder()


@pytest.fixture
def bureau_client(bureau_settings, sleeps):
    """A bureau client on the fake bureau whose backoff waits are recorded, not slept."""
    return BureauClient(BureauConfig(), sleep=sleeps)


def aged_debt(*, dpd: int = 45, bucket: str = "M2", customer=None, **kwargs) -> Debt:
    """A placed debt in an open case, aged by hand to ``dpd`` / ``bucket``."""
    debt = make_debt(customer=customer or CustomerFactory(), opened_on=date(2026, 1, 1), **kwargs)
    Debt.objects.filter(pk=debt.pk).update(days_past_due=dpd, bucket=bucket)
    debt.refresh_from_db()
    return debt

"""The helpers data migrations use to write beat entries."""

import pytest
from django.apps import apps
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from backoffice.beat_schedules import install_interval_task, remove_interval_task

pytestmark = pytest.mark.django_db


def test_install_is_idempotent_and_remove_keeps_an_interval_still_in_use():
    for _ in range(2):
        install_interval_task(apps, name="A", task="x.a", minutes=7, description="a")
    install_interval_task(apps, name="B", task="x.b", minutes=7, description="b")
    assert PeriodicTask.objects.filter(name__in=["A", "B"], interval__every=7).count() == 2

    remove_interval_task(apps, name="A")
    assert not PeriodicTask.objects.filter(name="A").exists()
    assert IntervalSchedule.objects.filter(every=7, period="minutes").exists()  # B still uses it

    remove_interval_task(apps, name="B")
    assert not IntervalSchedule.objects.filter(every=7, period="minutes").exists()

"""``messages/``: reminders sent or refused, with the refusing rules."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from rest_framework.test import APIClient

from cases.models import CollectionCase, Message
from cases.services.holds import place_hold
from tests.cases.test_messaging_queue import actor, debt_with_contacts, queue_sms, sms_file, templates  # noqa: F401
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
URL = "/api/v1/messages/"


@pytest.fixture
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def collector(fast_hasher):
    call_command("setup_roles", verbosity=0)
    user = UserFactory(username="msg-collector")
    user.groups.add(Group.objects.get(name="Collector"))
    return user


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_lists_sent_and_blocked_messages_of_the_collectors_cases(collector, templates, sms_file, actor):  # noqa: F811
    debt = debt_with_contacts()
    CollectionCase.objects.filter(pk=debt.case_id).update(assigned_to=collector)
    queue_sms(debt, actor, at=datetime(2026, 2, 2, 10, tzinfo=SHANGHAI), key="ok")
    place_hold(case=debt.case, hold="dispute", actor=actor, reason="consumer disputes")
    queue_sms(debt, actor, at=datetime(2026, 2, 3, 10, tzinfo=SHANGHAI), key="held")
    other = debt_with_contacts()
    queue_sms(other, actor, at=datetime(2026, 2, 2, 10, tzinfo=SHANGHAI), key="other")

    response = client_for(collector).get(URL, {"case": debt.case_id})

    assert response.status_code == 200
    rows = {row["id"]: row for row in response.json()["results"]}
    blocked = Message.objects.get(idempotency_key="held")
    assert set(rows) == set(Message.objects.filter(case=debt.case).values_list("id", flat=True))
    assert rows[blocked.pk]["status"] == "blocked"
    assert rows[blocked.pk]["rules"] == ["hold"]
    assert rows[blocked.pk]["blocked_reason"]
    # Another collector's case is not listed, and its message answers 404.
    other_message = Message.objects.get(idempotency_key="other")
    assert client_for(collector).get(f"{URL}{other_message.pk}/").status_code == 404
    assert other_message.pk not in {r["id"] for r in client_for(collector).get(URL).json()["results"]}


def test_messages_are_read_only(collector):
    client = client_for(collector)
    assert client.post(URL, {}, format="json").status_code == 405


def test_anonymous_gets_401():
    assert APIClient().get(URL).status_code == 401

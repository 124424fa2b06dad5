"""The per-user .ics feed of hearings and deadlines (token-protected)."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from icalendar import Calendar

from legal.calendar import token_for
from legal.models import Deadline
from legal.services import add_deadline, schedule_hearing


@pytest.fixture
def feed_items(matter, legal_user):
    today = timezone.localdate()
    starts = timezone.make_aware(
        datetime.combine(today + timedelta(days=10), datetime.min.time().replace(hour=9))
    )
    hearing = schedule_hearing(
        matter=matter, starts_at=starts, court_room="5", judge="Judge Wang", actor=legal_user, reason="set"
    )
    deadline = add_deadline(
        matter=matter,
        kind=Deadline.Kind.FILING,
        due_on=today + timedelta(days=20),
        title="Submit evidence",
        actor=legal_user,
        reason="due",
    )
    return hearing, deadline


def test_the_feed_parses_and_holds_the_hearing_and_the_deadline(client, legal_user, feed_items):
    hearing, deadline = feed_items
    response = client.get(f"/legal/calendar/{token_for(legal_user).token}.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(response.content)
    events = {str(e["uid"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {f"hearing-{hearing.pk}@ledgerline", f"deadline-{deadline.pk}@ledgerline"}
    heard = events[f"hearing-{hearing.pk}@ledgerline"]
    assert heard.decoded("dtstart") == hearing.starts_at
    assert "Hearing" in str(heard["summary"])
    assert "5" in str(heard["location"])
    due = events[f"deadline-{deadline.pk}@ledgerline"]
    assert due.decoded("dtstart") == deadline.due_on
    assert "Submit evidence" in str(due["summary"])


def test_a_wrong_token_is_404(client, feed_items):
    assert client.get("/legal/calendar/not-a-token.ics").status_code == 404


def test_an_inactive_users_token_is_404(client, legal_user, feed_items):
    token = token_for(legal_user).token
    legal_user.is_active = False
    legal_user.save()
    assert client.get(f"/legal/calendar/{token}.ics").status_code == 404


def test_another_users_feed_does_not_show_my_matters(client, feed_items, setup_roles):
    from backoffice import roles
    from tests.legal.conftest import user_in

    colleague = user_in(roles.LEGAL, "colleague")
    cal = Calendar.from_ical(client.get(f"/legal/calendar/{token_for(colleague).token}.ics").content)
    assert list(cal.walk("VEVENT")) == []

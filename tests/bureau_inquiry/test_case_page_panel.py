"""The case page shows the newest bureau report, and its "Refresh now"
button queues a fetch for those who may ask (and only them)."""

from datetime import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.bureau_inquiry.models import BureauReport

pytest_plugins = ["tests.personas"]
pytestmark = pytest.mark.django_db


def page(case):
    return reverse("admin:cases_collectioncase_work", args=[case.pk])


def refresh_url(case):
    return reverse("admin:bureau_inquiry_bureaureport_refresh_case", args=[case.pk])


@pytest.fixture
def newest(world):
    customer = world.cases["A"].customer
    for day, score in ((1, 700), (20, 612)):
        BureauReport.objects.create(
            bureau="b",
            customer=customer,
            fetched_at=timezone.make_aware(datetime(2026, 2, day, 9)),
            request_id=f"R-{day}",
            score=score,
            open_tradelines=2,
            recent_delinquencies=1,
            contact_points_added=3,
            employer_added=True,
        )


def test_the_collector_sees_the_newest_report_without_the_button(client, personas, world, newest):
    client.force_login(personas["collector"])
    body = client.get(page(world.cases["A"])).content.decode()
    assert '<dd id="bureau-score">612</dd>' in body  # the newest, not the 700 before
    assert "3 new contact points" in body
    assert refresh_url(world.cases["A"]) not in body


def test_the_team_lead_gets_the_button_and_it_queues_a_fetch(
    client, personas, world, newest, django_capture_on_commit_callbacks
):
    client.force_login(personas["team_lead"])
    case = world.cases["A"]
    assert refresh_url(case) in client.get(page(case)).content.decode()
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(refresh_url(case), {"reason": "moved house"})
    assert response.status_code == 302 and response.url == page(case)
    assert len(queued) == 1


def test_the_button_refuses_a_collector_and_an_invisible_case(
    client, personas, world, django_capture_on_commit_callbacks
):
    client.force_login(personas["collector"])
    with django_capture_on_commit_callbacks(execute=False) as queued:
        refused = client.post(refresh_url(world.cases["A"]), {"reason": "x"}, follow=True)
        hidden = client.post(refresh_url(world.cases["B"]), {"reason": "x"})
        get = client.get(refresh_url(world.cases["A"]))
    assert "You may not request bureau reports." in refused.content.decode()
    assert hidden.status_code == 404
    assert get.status_code == 405
    assert queued == []


def test_a_page_without_a_report_offers_the_button_to_a_supervisor(client, personas, world):
    client.force_login(personas["supervisor"])
    body = client.get(page(world.cases["B"])).content.decode()
    assert "No bureau report yet." in body
    assert refresh_url(world.cases["B"]) in body

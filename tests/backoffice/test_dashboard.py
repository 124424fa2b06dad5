"""The KPI dashboard screens: who may open them, what they show (numbers
from ``backoffice.kpis`` on the hand-made portfolio of ``test_kpis``, SVG
charts) and how many queries they take."""

from decimal import Decimal as D

import pytest
from django.urls import reverse

from backoffice.views.dashboard import dashboard_urls, percent
from tests.backoffice.test_kpis import build_portfolio

MARCH = {"date_from": "2026-03-01", "date_to": "2026-03-31"}


@pytest.fixture
def portfolio(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return build_portfolio()


def _as(client, user):
    client.force_login(user)
    return client


def test_dashboard_urls_are_three_named_paths():
    assert [p.name for p in dashboard_urls()] == ["kpi-dashboard", "kpi-leaderboard", "kpi-collector"]
    assert reverse("kpi-dashboard") == "/admin/dashboard/"
    assert reverse("kpi-collector", args=[7]) == "/admin/dashboard/collectors/7/"


def test_supervisor_sees_the_dashboard_with_svg_charts(client, portfolio, django_assert_max_num_queries):
    client = _as(client, portfolio.supervisor)
    with django_assert_max_num_queries(30):
        response = client.get(reverse("kpi-dashboard"), MARCH)
    assert response.status_code == 200
    html = response.content.decode()
    # the admin's own icons are SVG too: look inside the chart boxes
    for chart in ("chart-rates", "chart-per-day", "chart-roll"):
        assert f'id="{chart}"><svg' in html
    assert html.count("<svg") >= 5 + 1  # five charts and the admin's icon sprite
    summary = response.context["summary"]
    assert summary["cure_rate"] == D("0.2500")
    assert summary["recovery_rate"] == D("0.1647")
    assert "16.47 %" in html and "25.00 %" in html and "65.38 %" in html and "60.00 %" in html
    assert "1400.00" in html
    roll = {row["bucket"]: row for row in response.context["roll"]["rows"]}
    assert roll["M1"]["roll"] == "52.00 %"


def test_filters_narrow_the_numbers(client, portfolio):
    client = _as(client, portfolio.supervisor)
    by_collector = client.get(reverse("kpi-dashboard"), {**MARCH, "collector": portfolio.collector_a.pk})
    assert by_collector.context["summary"]["cure_rate"] == D("0.3333")
    by_team = client.get(reverse("kpi-dashboard"), {**MARCH, "team": portfolio.beta.pk})
    assert by_team.context["summary"]["recovery_rate"] == D("0.1143")
    by_product = client.get(reverse("kpi-dashboard"), {**MARCH, "product": portfolio.p2.pk})
    assert by_product.context["summary"]["recovery_rate"] == D("0.2000")
    feb = client.get(reverse("kpi-dashboard"), {"date_from": "2026-02-27", "date_to": "2026-02-27"})
    assert feb.context["summary"]["right_party_contact_rate"] == D("0.0000")
    assert feb.context["summary"]["promise_kept_rate"] is None


def test_a_bad_period_is_an_error_on_the_form(client, portfolio):
    client = _as(client, portfolio.supervisor)
    response = client.get(reverse("kpi-dashboard"), {"date_from": "2026-03-31", "date_to": "2026-03-01"})
    assert response.status_code == 200
    assert response.context["form"].errors["date_to"]


def test_team_lead_sees_only_their_teams_numbers(client, portfolio):
    client = _as(client, portfolio.lead_a)
    response = client.get(reverse("kpi-dashboard"), MARCH)
    assert response.status_code == 200
    summary = response.context["summary"]
    assert summary["collected"] == D("1000.00")
    assert summary["cure_rate"] == D("0.3333")
    # the other team is not offered as a filter, and asking for it shows nothing of it
    assert list(response.context["form"].fields["team"].queryset) == [portfolio.alpha]
    other = client.get(reverse("kpi-dashboard"), {**MARCH, "team": portfolio.beta.pk})
    assert other.context["form"].errors["team"]
    board = client.get(reverse("kpi-leaderboard"), MARCH)
    assert [row["user"].username for row in board.context["board"]] == ["col_a"]
    assert client.get(reverse("kpi-collector", args=[portfolio.collector_b.pk]), MARCH).status_code == 404


@pytest.mark.parametrize("url_name", ["kpi-dashboard", "kpi-leaderboard", "kpi-collector"])
def test_collector_is_refused(client, portfolio, url_name):
    client = _as(client, portfolio.collector_a)
    args = [portfolio.collector_a.pk] if url_name == "kpi-collector" else []
    assert client.get(reverse(url_name, args=args), MARCH).status_code == 403


def test_anonymous_is_sent_to_login(client, portfolio):
    response = client.get(reverse("kpi-dashboard"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_superuser_may_open_the_dashboard(client, portfolio, admin_user):
    assert _as(client, admin_user).get(reverse("kpi-dashboard"), MARCH).status_code == 200


def test_leaderboard_lists_collectors_with_links(client, portfolio, django_assert_max_num_queries):
    client = _as(client, portfolio.supervisor)
    with django_assert_max_num_queries(18):
        response = client.get(reverse("kpi-leaderboard"), MARCH)
    assert response.status_code == 200
    board = response.context["board"]
    assert [(row["user"].username, row["collected"]) for row in board] == [
        ("col_a", D("1000.00")),
        ("col_b", D("400.00")),
    ]
    html = response.content.decode()
    assert 'id="chart-leaderboard"><svg' in html
    assert reverse("kpi-collector", args=[portfolio.collector_a.pk]) in html
    assert "72.22 %" in html  # A's kept rate: 1300/1800


def test_collector_page(client, portfolio, django_assert_max_num_queries):
    client = _as(client, portfolio.supervisor)
    with django_assert_max_num_queries(22):
        response = client.get(reverse("kpi-collector", args=[portfolio.collector_b.pk]), MARCH)
    assert response.status_code == 200
    summary = response.context["summary"]
    assert (summary["worked_cases"], summary["contacts"], summary["promises"]) == (2, 2, 2)
    assert summary["collected"] == D("400.00")
    html = response.content.decode()
    assert 'id="chart-per-day"><svg' in html
    assert 'id="chart-by-bucket"><svg' in html
    assert "50.00 %" in html


def test_percent_shows_a_dash_without_a_rate():
    assert percent(None) == "—"
    assert percent(D("0.6538")) == "65.38 %"

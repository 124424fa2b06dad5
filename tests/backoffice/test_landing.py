"""Landing per role (issue #16): ``/`` sends each role to its work page, the
admin index lists those pages under "Your work", and ``/api/v1/`` is the
API root."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from backoffice.views.dashboard import can_view_dashboard

pytest_plugins = ["tests.personas"]
pytestmark = pytest.mark.django_db

MY_QUEUE = "/admin/cases/collectioncase/my-queue/"
LEGAL_UPCOMING = "/admin/legal/legalmatter/upcoming/"
DASHBOARD = "/admin/dashboard/"
AUDIT_TRAIL = "/admin/audit/"
PAYMENT_CLAIMS = "/admin/cases/paymentclaim/"
ADMIN_INDEX = "/admin/"

LANDING = {
    "collector": MY_QUEUE,
    "collector2": MY_QUEUE,
    "agency": MY_QUEUE,
    # No team queue yet: a team lead works from My queue.
    "team_lead": MY_QUEUE,
    "legal": LEGAL_UPCOMING,
    "supervisor": DASHBOARD,
    "payments": PAYMENT_CLAIMS,
    "administrator": ADMIN_INDEX,
    "superuser": ADMIN_INDEX,
    "outsider": ADMIN_INDEX,
}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_named_urls_are_the_documented_paths():
    assert reverse("admin:cases_collectioncase_my_queue") == MY_QUEUE
    assert reverse("admin:legal_legalmatter_upcoming") == LEGAL_UPCOMING
    assert reverse("kpi-dashboard") == DASHBOARD
    assert reverse("audit-trail") == AUDIT_TRAIL
    assert reverse("admin:cases_paymentclaim_changelist") == PAYMENT_CLAIMS
    assert reverse("landing") == "/"


@pytest.mark.parametrize("persona", sorted(LANDING))
def test_root_redirects_each_role_to_its_work_page(personas, persona):
    response = _client(personas[persona]).get("/")
    assert response.status_code == 302
    assert response["Location"] == LANDING[persona]


def test_compliance_lands_on_the_dashboard_or_else_the_audit_trail(personas):
    """Compliance lands on the dashboard when it may open it; today the
    dashboard leaves Compliance out, so the audit trail (never a 403)."""
    user = personas["compliance"]
    response = _client(user).get("/")
    assert response.status_code == 302
    assert response["Location"] == (DASHBOARD if can_view_dashboard(user) else AUDIT_TRAIL)


@pytest.mark.parametrize(
    "persona",
    ["collector", "team_lead", "agency", "legal", "supervisor", "compliance", "payments", "administrator"],
)
def test_every_role_lands_on_a_page_it_may_open(personas, world, persona):
    response = _client(personas[persona]).get("/", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] != "/"


def test_anonymous_goes_to_the_login_and_back_to_root(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=%2F"


def test_root_refuses_a_post(personas):
    assert _client(personas["collector"]).post("/").status_code == 405


def test_view_site_link_is_the_root(personas):
    response = _client(personas["collector"]).get(ADMIN_INDEX)
    assert response.context["site_url"] == "/"


@pytest.mark.parametrize(
    ("persona", "links"),
    [
        ("collector", [MY_QUEUE]),
        ("agency", [MY_QUEUE]),
        ("team_lead", [MY_QUEUE]),
        ("legal", [LEGAL_UPCOMING]),
        ("supervisor", [DASHBOARD]),
        ("payments", [PAYMENT_CLAIMS]),
    ],
)
def test_admin_index_shows_your_work(personas, persona, links):
    response = _client(personas[persona]).get(ADMIN_INDEX)
    assert response.status_code == 200
    assert [url for _label, url in response.context["work_links"]] == links
    body = response.content.decode()
    assert "Your work" in body
    for url in links:
        assert f'href="{url}"' in body


def test_admin_index_keeps_the_supervision_box(personas):
    body = _client(personas["supervisor"]).get(ADMIN_INDEX).content.decode()
    assert "Your work" in body
    assert "Supervision" in body
    assert f'href="{AUDIT_TRAIL}"' in body


def test_administrator_has_no_your_work_box_pointing_at_the_index_itself(personas):
    response = _client(personas["administrator"]).get(ADMIN_INDEX)
    assert response.context["work_links"] == []
    assert "Your work" not in response.content.decode()


def test_your_work_is_translated_into_chinese(personas):
    client = _client(personas["payments"])
    response = client.get(ADMIN_INDEX, HTTP_ACCEPT_LANGUAGE="zh-hans")
    body = response.content.decode()
    with translation.override("zh-hans"):
        assert translation.gettext("Your work") != "Your work"
        assert translation.gettext("Payment claims") != "Payment claims"
    assert "我的工作" in body
    assert "还款申报" in body


def test_api_root_lists_the_routes(personas):
    client = APIClient()
    client.force_authenticate(personas["collector"])
    response = client.get("/api/v1/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    routes = response.json()
    assert routes["cases"] == "http://testserver/api/v1/cases/"
    assert routes["customers"] == "http://testserver/api/v1/customers/"
    assert routes["legal/matters"] == "http://testserver/api/v1/legal/matters/"
    # Nested routes need a row to have a URL: not listed.
    assert not any("(?P<" in name for name in routes)


def test_api_root_refuses_anonymous():
    assert APIClient().get("/api/v1/").status_code == 401

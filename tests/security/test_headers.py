"""Headers and exposure (issue 14): Content-Security-Policy on pages and API
responses, ``Cache-Control: no-store`` wherever personal data can show, the
OpenAPI schema and Swagger UI for signed-in staff only, and no inline code or
style in the project's templates that the policy would block."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from rest_framework.test import APIClient

from backoffice.charts import bar_chart, daily_chart, matrix_chart
from legal.calendar import token_for
from tests.factories import UserFactory, make_debt

pytestmark = pytest.mark.django_db

EXPECTED_DIRECTIVES = {
    "default-src": {"'self'"},
    "img-src": {"'self'", "data:"},
    "object-src": {"'none'"},
    "base-uri": {"'self'"},
    "form-action": {"'self'"},
    "frame-ancestors": {"'none'"},
}


def policy(response) -> dict[str, set[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = set(values)
    return directives


def assert_strict_policy(response) -> dict[str, set[str]]:
    directives = policy(response)
    for name, values in EXPECTED_DIRECTIVES.items():
        assert directives[name] == values, name
    for name in ("script-src", "style-src"):
        assert "'self'" in directives[name]
        assert "'unsafe-inline'" not in directives[name] and "'unsafe-eval'" not in directives[name]
        assert all(v == "'self'" or v.startswith("'nonce-") for v in directives[name]), directives[name]
    assert "style-src-attr" not in directives and "script-src-attr" not in directives
    return directives


def nonce_of(response) -> str:
    nonces = {v for v in policy(response)["script-src"] if v.startswith("'nonce-")}
    assert len(nonces) == 1
    return nonces.pop()[len("'nonce-") : -1]


@pytest.fixture
def anonymous_api():
    return APIClient()


@pytest.fixture
def staff(admin_user, client):
    client.force_login(admin_user)
    return client


# -- Content-Security-Policy


def test_admin_pages_carry_the_policy_and_their_scripts_the_nonce(staff):
    response = staff.get(reverse("admin:index"))

    assert response.status_code == 200
    assert_strict_policy(response)
    html = response.content.decode()
    nonce = nonce_of(response)
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts
    assert all(f'nonce="{nonce}"' in tag for tag in scripts), scripts


def test_each_response_gets_its_own_nonce(staff):
    first = nonce_of(staff.get(reverse("admin:index")))
    second = nonce_of(staff.get(reverse("admin:index")))

    assert first != second


def test_the_admin_login_page_carries_the_policy(client):
    response = client.get(reverse("admin:login"))

    assert response.status_code == 200
    assert_strict_policy(response)


def test_api_responses_carry_the_policy(api):
    make_debt()

    response = api.get("/api/v1/debts/")

    assert response.status_code == 200
    assert_strict_policy(response)


def test_refused_api_responses_carry_the_policy_too(anonymous_api):
    response = anonymous_api.get("/api/v1/debts/")

    assert response.status_code == 401
    assert_strict_policy(response)


def test_pdf_responses_go_without_the_policy_so_chromes_pdf_viewer_works(staff):
    debt = make_debt()

    response = staff.get(reverse("admin:cases_debt_letter_preview", args=[debt.pk]))

    if response.status_code != 200:
        pytest.skip(f"letter rendering is not available here ({response.status_code})")
    assert response["Content-Type"] == "application/pdf"
    assert "Content-Security-Policy" not in response
    assert "no-store" in response["Cache-Control"]


# -- Cache-Control: no-store


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/cases/collectioncase/",
        "/admin/customers/customer/",
        "/admin/dashboard/",
        "/admin/audit/",
        "/api/v1/customers/",
        "/api/v1/debts/",
        "/api/schema/",
    ],
)
def test_pages_and_api_responses_are_not_stored(url, admin_user, staff):
    api = APIClient()
    api.force_authenticate(admin_user)

    response = (api if url.startswith("/api/") else staff).get(url)

    assert response.status_code == 200, url
    assert "no-store" in response["Cache-Control"]


def test_an_api_error_is_not_stored_either(anonymous_api):
    response = anonymous_api.get("/api/v1/customers/")

    assert response.status_code == 401
    assert "no-store" in response["Cache-Control"]


def test_the_calendar_feed_is_not_stored(client, admin_user):
    response = client.get(f"/legal/calendar/{token_for(admin_user).token}.ics")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


# -- schema and Swagger UI: signed-in staff only


def test_the_schema_is_refused_to_anonymous_callers(anonymous_api):
    response = anonymous_api.get("/api/schema/")

    assert response.status_code == 401
    assert b"/api/v1/" not in response.content


def test_the_schema_is_refused_to_signed_in_users_who_are_not_staff():
    client = APIClient()
    client.force_authenticate(UserFactory(username="integration", is_staff=False))

    response = client.get("/api/schema/")

    assert response.status_code == 403
    assert b"/api/v1/" not in response.content


def test_the_schema_answers_staff(api):
    response = api.get("/api/schema/")

    assert response.status_code == 200
    assert b"/api/v1/payments/" in response.content


def test_swagger_ui_sends_anonymous_browsers_to_the_login(client):
    response = client.get("/api/docs/")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_swagger_ui_sends_signed_in_users_who_are_not_staff_to_the_login(client):
    client.force_login(UserFactory(username="not-staff", is_staff=False))

    response = client.get("/api/docs/")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_swagger_ui_answers_staff_from_local_assets_under_the_policy(staff):
    response = staff.get("/api/docs/")

    assert response.status_code == 200
    assert_strict_policy(response)
    html = response.content.decode()
    nonce = nonce_of(response)
    assert f"{settings.STATIC_URL}drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn.jsdelivr.net" not in html and "://" not in "".join(re.findall(r'src="([^"]*)"', html))
    for tag in re.findall(r"<(?:script|style)\b[^>]*>", html):
        assert f'nonce="{nonce}"' in tag, tag
    assert "no-store" in response["Cache-Control"]


# -- nothing inline that the policy would block


PROJECT_TEMPLATES = sorted(
    path
    for app in ("backoffice", "cases", "customers", "legal")
    for path in (Path(settings.BASE_DIR) / app).rglob("templates/**/*.html")
    # Letters are rendered to PDF by WeasyPrint, never shown as a page.
    if "/templates/letters/" not in str(path)
)


def test_the_project_has_templates_to_check():
    assert len(PROJECT_TEMPLATES) > 20


@pytest.mark.parametrize("path", PROJECT_TEMPLATES, ids=lambda p: str(p.relative_to(settings.BASE_DIR)))
def test_templates_have_no_inline_handlers_styles_or_scripts_without_a_nonce(path):
    source = path.read_text()

    assert not re.search(r"\son[a-z]+\s*=", source), "inline event handler"
    assert not re.search(r"\sstyle\s*=", source), "style attribute"
    assert "javascript:" not in source
    for tag in re.findall(r"<(?:script|style)\b[^>]*>", source):
        assert "csp_nonce_attr" in tag or "request.csp_nonce" in tag, tag


def test_charts_use_presentation_attributes_not_inline_css():
    from datetime import date

    charts = [
        bar_chart(["a", "b"], [1, 2], title="t", ylabel="y"),
        daily_chart([date(2026, 1, 1), date(2026, 1, 2)], [3, 4], title="t", ylabel="y"),
        matrix_chart(["1", "2"], ["1", "2"], [[0.5, 0.7], [0.1, None]], title="t"),
    ]

    for svg in charts:
        assert svg.startswith("<svg")
        assert "style=" not in svg and "<style" not in svg
        assert 'fill="#417690"' in svg or 'fill="#ffffff"' in svg
        assert 'stroke-linejoin="round"' in svg.split(">", 1)[0]

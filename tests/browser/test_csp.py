"""In headless Chromium: the screens work under the Content-Security-Policy.

A superuser opens the admin index, the case list, a case's change form and
case page, the KPI dashboard, the legal "Upcoming" page and Swagger UI at
/api/docs/; the browser reports no CSP violation on any of them (neither a
``securitypolicyviolation`` event nor a "Refused to …" console message),
the dashboard's SVG charts keep their colours and Swagger UI lists the API.

Needs Debian's Chromium at ``/usr/bin/chromium`` and Playwright for Python;
skipped with the reason when either is missing.
"""

import importlib.util
import io
import os
import shutil

import pytest
from django.core.management import call_command

from tests.factories import UserFactory, make_debt

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "pw-Ledgerline-1"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
# Runs in every page before its own scripts (Playwright injects it outside
# the page's policy) and keeps each violation the page reports.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`
  );
});
"""

# Playwright's sync API runs an event loop in this thread; the ORM calls the
# test makes around it are still synchronous and safe.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (os.path.exists(CHROMIUM) or shutil.which("chromium")),
        reason=f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)",
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None,
        reason="Playwright for Python is not installed (requirements-dev.txt)",
    ),
]


@pytest.fixture
def story(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("setup_roles", stdout=io.StringIO())
    UserFactory(username="root", password=PASSWORD, is_superuser=True)
    debt = make_debt()
    return {"case_id": debt.case_id}


def test_admin_dashboard_case_page_and_swagger_ui_run_without_csp_violations(live_server, story):
    from playwright.sync_api import sync_playwright

    base = live_server.url
    case_id = story["case_id"]
    pages = [
        ("/admin/", "#content-main"),
        ("/admin/cases/collectioncase/", "#changelist"),
        (f"/admin/cases/collectioncase/{case_id}/change/", "#content-main form"),
        (f"/admin/cases/collectioncase/{case_id}/work/", "#quick-actions"),
        ("/admin/dashboard/", "#chart-per-day svg"),
        ("/admin/legal/legalmatter/upcoming/", "#calendar-feed"),
        ("/api/docs/", ".swagger-ui .opblock"),
    ]
    refused: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.add_init_script(RECORD_VIOLATIONS)
            page = context.new_page()
            page.on(
                "console",
                lambda message: (
                    refused.append(f"{page.url}: {message.text}")
                    if "Refused to" in message.text or "Content Security Policy" in message.text
                    else None
                ),
            )
            page.goto(f"{base}/admin/login/?next=/admin/")
            page.fill("#id_username", "root")
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_url(f"{base}/admin/")

            for path, ready in pages:
                response = page.goto(f"{base}{path}")
                assert response.status == 200, path
                assert "content-security-policy" in response.headers, path
                page.wait_for_selector(ready, timeout=20_000)
                page.wait_for_load_state("networkidle")
                violations = page.evaluate("window.__cspViolations")
                assert violations == [], f"{path}: {violations}"

                if path == "/admin/dashboard/":
                    # The chart's background keeps its white fill: its colours
                    # are presentation attributes the policy does not block.
                    fill = page.evaluate(
                        """getComputedStyle(
                            document.querySelector('#chart-per-day svg path[fill="#ffffff"]')
                        ).fill"""
                    )
                    assert fill == "rgb(255, 255, 255)"
                if path == "/api/docs/":
                    assert "Ledgerline API" in page.inner_text(".swagger-ui .info")
                    assert page.locator(".swagger-ui .opblock").count() > 10
            context.close()
        finally:
            browser.close()

    assert refused == []

"""End to end in headless Chromium: a collector works their queue.

The collector logs in, opens My queue, opens the first case, logs a call
with a promise to pay and sees both on the timeline; a second collector
cannot open that case (404). Leaves ``case-page.png`` in ``$SCREENSHOT_DIR``
(``make screenshots``) or the temp dir.

Needs Debian's Chromium at ``/usr/bin/chromium`` and Playwright for Python;
skipped with the reason when either is missing.
"""

import importlib.util
import io
import os
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone

from cases.models import CollectionCase, ContactAttempt, PromiseToPay
from tests.factories import ContactPointFactory, CustomerFactory, UserFactory, make_debt

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "pw-Ledgerline-1"
# ``make screenshots`` sets SCREENSHOT_DIR=docs/screenshots to refresh the
# committed picture; otherwise it goes to a temp dir and the tree stays clean.
SCREENSHOT = Path(os.environ.get("SCREENSHOT_DIR") or tempfile.gettempdir()) / "case-page.png"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

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


def zone_at_noon(now: datetime) -> str:
    """An ``Etc/GMT±N`` zone where it is about 12:00 at ``now`` (UTC), so the
    contact-hours rule (08:00–22:00) allows the call whenever the test runs.
    ``Etc`` zones count the other way: ``Etc/GMT-8`` is UTC+8."""
    offset = 12 - now.astimezone(UTC).hour  # -11 … +12
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


def member(role: str, username: str):
    user = UserFactory(username=username, password=PASSWORD)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def story(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("setup_roles", stdout=io.StringIO())
    first = member("Collector", "ann")
    second = member("Collector", "bob")
    customer = CustomerFactory(name="Zhang Wei", time_zone=zone_at_noon(timezone.now()))
    ContactPointFactory(customer=customer, value="+8613800138000", primary=True)
    debt = make_debt(customer=customer)
    CollectionCase.objects.filter(pk=debt.case_id).update(assigned_to=first)
    return {"case": CollectionCase.objects.get(pk=debt.case_id), "first": first, "second": second}


def log_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base_url}/admin/")


def test_collector_logs_a_promise_and_another_collector_cannot_open_the_case(live_server, story):
    from playwright.sync_api import sync_playwright

    case = story["case"]
    due_on = (timezone.localdate() + timedelta(days=3)).isoformat()
    base = live_server.url
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            log_in(page, base, "ann")

            page.goto(f"{base}/admin/cases/")
            page.click("text=My queue")
            page.wait_for_selector("#my-queue")
            assert "Zhang Wei" in page.inner_text("#my-queue")

            page.click("#my-queue a.case-link >> nth=0")
            page.wait_for_selector("#quick-actions")
            assert page.url.endswith(f"/admin/cases/collectioncase/{case.pk}/work/")
            assert "Call allowed now" in page.inner_text("#compliance")

            page.select_option("#id_contact-channel", "call")
            page.select_option("#id_contact-outcome", "promise")
            page.fill("#id_contact-duration_s", "240")
            page.fill("#id_contact-note", "Agreed to pay part of the arrears on Friday.")
            page.fill("#id_contact-promise_amount", "300.00")
            page.fill("#id_contact-promise_due_on", due_on)
            page.click("input[name=submit-contact]")
            page.wait_for_selector("ul.messagelist li.success")

            timeline = page.inner_text("#timeline")
            assert "Call (outbound): Promise to pay" in timeline
            assert f"Promise to pay 300.00 by {due_on}" in timeline
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
            context.close()

            other = browser.new_context()
            other_page = other.new_page()
            log_in(other_page, base, "bob")
            response = other_page.goto(f"{base}/admin/cases/collectioncase/{case.pk}/work/")
            assert response.status == 404
            other.close()
        finally:
            browser.close()

    attempt = ContactAttempt.objects.get(case=case)
    assert (attempt.outcome, attempt.created_by, attempt.duration_s) == ("promise", story["first"], 240)
    assert PromiseToPay.objects.get(case=case).contact == attempt

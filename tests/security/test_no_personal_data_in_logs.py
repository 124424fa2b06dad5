"""No personal data in logs (issue #15; ``backoffice.logfilters``, docs/logging.md).

The scenario test captures every logger at DEBUG while a supervisor searches
by full national ID and phone (admin ``?q=``, API ``?search=``), opens a
customer, logs a contact, posts a payment, hits a 404 and a 403 on URLs
holding the ID, closes the day and sends an SMS through the console
backend; no captured record (message, arguments, extra fields, the request
attached) and nothing the console backend prints may hold a seeded ID,
phone or name. The capture handler carries the same filter as every handler
of ``settings.LOGGING`` (``test_every_configured_handler_redacts`` checks
that they do), so what it holds is what a log file would.
"""

import io
import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient

from backoffice.logfilters import RedactedRequest, RedactPersonalData, redact_text
from cases.services.dunning import install_default_templates
from cases.services.messages import queue_message, send_message
from customers.models import ContactPoint
from tests.factories import ContactPointFactory, CustomerFactory, ThirdPartyContactFactory, make_debt

pytest_plugins = ["tests.personas"]
pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
SEEDED = [
    # (name, national ID, phone): the ID in each format the redaction knows.
    ("欧阳测试甲", "110101198807153216", "+8613912345678"),
    ("Wilhelmina Testperson", "11010119900307421X", "+8618687654321"),
    ("司马测试乙", "123-45-6789", "+14155550123"),
]
THIRD_PARTY = ("诸葛第三方", "+8613711112222")


@pytest.fixture
def every_log(caplog):
    """caplog at DEBUG on every logger, those that do not propagate too,
    through the filter every configured handler has."""
    redact = RedactPersonalData()
    caplog.handler.addFilter(redact)
    caplog.set_level(logging.DEBUG)
    loggers = [item for item in logging.root.manager.loggerDict.values() if isinstance(item, logging.Logger)]
    detached = []
    for logger in loggers:
        caplog.set_level(logging.DEBUG, logger=logger.name)
        if not logger.propagate:
            logger.addHandler(caplog.handler)
            detached.append(logger)
    yield caplog
    for logger in detached:
        logger.removeHandler(caplog.handler)
    caplog.handler.removeFilter(redact)


@pytest.fixture
def seeded(db):
    debts = []
    for name, national_id, phone in SEEDED:
        customer = CustomerFactory(name=name, national_id=national_id)
        ContactPointFactory(customer=customer, kind=ContactPoint.Kind.PHONE, value=phone)
        debts.append(make_debt(customer=customer, opened_on=date(2026, 1, 1)))
    ThirdPartyContactFactory(customer=debts[0].customer, name=THIRD_PARTY[0], phone=THIRD_PARTY[1])
    return debts


def secrets() -> list[str]:
    values = [v for row in SEEDED for v in row] + list(THIRD_PARTY)
    # Phones also as typed without the plus sign, and as their national number.
    values += [phone.lstrip("+") for _, _, phone in SEEDED] + [SEEDED[0][2][3:], SEEDED[1][2][3:]]
    return values


def record_texts(record: logging.LogRecord) -> list[str]:
    texts = [record.getMessage(), str(record.msg), repr(record.args), record.exc_text or ""]
    request = getattr(record, "request", None)
    if request is not None and hasattr(request, "get_full_path"):
        texts += [request.get_full_path(), request.build_absolute_uri(), repr(dict(request.GET))]
    extras = {k: v for k, v in vars(record).items() if k not in ("msg", "args", "request", "exc_info")}
    texts.append(repr(extras))
    return texts


def assert_nothing_personal(texts: list[str]) -> None:
    leaks = [(secret, text) for text in texts for secret in secrets() if secret in text]
    assert leaks == []


def test_a_full_scenario_logs_no_seeded_id_phone_or_name(every_log, personas, seeded, capsys, settings):
    settings.SMS_BACKEND = "console"
    settings.SMS_CONSOLE_SHOW_CONTENT = False
    supervisor = personas["supervisor"]
    admin = APIClient()
    admin.force_login(supervisor)
    api = APIClient()
    api.force_authenticate(supervisor)
    # Logging a contact and posting a payment are a collector's and the
    # finance desk's work; a superuser does both on the same case here.
    desk = APIClient()
    desk.force_authenticate(personas["superuser"])
    name, national_id, phone = SEEDED[0]
    debt = seeded[0]
    customer = debt.customer
    customers_url = reverse("admin:customers_customer_changelist")
    contact_point = customer.contact_points.get()

    assert admin.get(customers_url, {"q": national_id}).status_code == 200
    assert admin.get(customers_url, {"q": phone}).status_code == 200
    assert admin.get(customers_url, {"q": name}).status_code == 200
    assert api.get("/api/v1/customers/", {"search": national_id}).status_code == 200
    assert api.get("/api/v1/customers/", {"search": phone}).status_code == 200
    assert admin.get(reverse("admin:customers_customer_change", args=[customer.pk])).status_code == 200
    contact = desk.post(
        "/api/v1/contacts/",
        {
            "case": debt.case_id,
            "party": "debtor",
            "contact_point": contact_point.pk,
            "channel": "call",
            "started_at": datetime(2026, 2, 2, 10, tzinfo=SHANGHAI).isoformat(),
            "outcome": "right_party",
            "note": f"spoke to {name} on {phone}",
        },
        format="json",
    )
    assert contact.status_code in (201, 409), contact.content
    payment = desk.post(
        "/api/v1/payments/",
        {
            "debt": debt.pk,
            "amount": "10.00",
            "currency": debt.currency,
            "received_on": "2026-02-03",
            "channel": "bank_transfer",
            "reference": "LOG-SCENARIO-1",
        },
        format="json",
    )
    assert payment.status_code == 201, payment.content
    assert api.get(f"/api/v1/customers/{national_id}/", {"search": phone}).status_code == 404
    collector = APIClient()
    collector.force_login(personas["collector"])
    forbidden = collector.get(f"/admin/agencies/agency/{national_id}/commission/", {"q": national_id})
    assert forbidden.status_code == 403
    call_command("close_of_business", "--date", "2026-02-03", stdout=io.StringIO(), stderr=io.StringIO())
    install_default_templates()
    message = queue_message(
        case=debt.case,
        debt=debt,
        channel="sms",
        template_code="overdue-day-1",
        actor=supervisor,
        at=datetime(2026, 2, 4, 10, tzinfo=SHANGHAI),
        idempotency_key="log-scenario",
        now=datetime(2026, 2, 4, 9, tzinfo=SHANGHAI),
    )
    sent = send_message(message_id=message.pk, now=datetime(2026, 2, 4, 10, 5, tzinfo=SHANGHAI))

    assert sent.provider_id.startswith("console-")
    assert any(r.name == "django.request" for r in every_log.records)  # the 404 and 403 were logged
    assert_nothing_personal([text for record in every_log.records for text in record_texts(record)])
    printed = capsys.readouterr()
    assert sent.provider_id in printed.out
    assert_nothing_personal([printed.out, printed.err])


def test_every_configured_handler_redacts():
    for name, handler in settings.LOGGING["handlers"].items():
        assert "redact_personal_data" in handler.get("filters", []), name
    loggers = [logging.getLogger()] + [
        item for item in logging.root.manager.loggerDict.values() if isinstance(item, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if type(handler).__module__.startswith("_pytest") or isinstance(handler, logging.NullHandler):
                continue  # pytest's own capture; a handler that writes nothing
            assert any(isinstance(f, RedactPersonalData) for f in handler.filters), (logger.name, handler)


def _filtered(record: logging.LogRecord) -> logging.LogRecord:
    assert RedactPersonalData().filter(record) is True
    return record


def test_a_runserver_access_line_loses_its_search_values():
    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        ("GET /admin/customers/customer/?q=%E6%AC%A7%E9%98%B3&national_id__regex=^1101&p=2 HTTP/1.1", 200, 5),
        None,
    )

    message = _filtered(record).getMessage()

    assert (
        message
        == '"GET /admin/customers/customer/?q=[redacted]&national_id__regex=[redacted]&p=2 HTTP/1.1" 200 5'
    )


def test_a_gunicorn_access_line_loses_its_query_string_values():
    atoms = {
        "r": "GET /api/v1/customers/?search=110101198807153216 HTTP/1.1",
        "q": "search=abc&page=2",
        "s": "200",
    }
    record = logging.LogRecord(
        "gunicorn.access", logging.INFO, __file__, 1, "%(r)s %(q)s %(s)s", (atoms,), None
    )

    message = _filtered(record).getMessage()

    assert message == "GET /api/v1/customers/?search=[redacted] HTTP/1.1 search=[redacted]&page=2 200"


def test_ids_ssns_and_phones_are_redacted_in_any_message_and_exception():
    try:
        raise ValueError("no customer 11010119900307421X")
    except ValueError:
        import sys

        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "ledgerline",
        logging.ERROR,
        __file__,
        1,
        "%s called %s, then %s",
        ("123-45-6789", 8613912345678, "%2B14155550123"),
        exc_info,
    )
    record.phone = "+8618687654321"

    _filtered(record)

    assert record.getMessage() == "[ssn] called [phone], then [phone]"
    assert "[national-id]" in record.exc_text and "421X" not in record.exc_text
    assert record.phone == "[phone]"


def test_the_request_on_a_record_shows_a_redacted_path_and_query():
    request = RequestFactory().get("/api/v1/customers/110101198807153216/", {"search": "欧阳", "page": "2"})
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Not Found: %s", (request.path,), None
    )
    record.request = request

    _filtered(record)

    assert isinstance(record.request, RedactedRequest)
    assert record.getMessage() == "Not Found: /api/v1/customers/[national-id]/"
    assert record.request.get_full_path() == "/api/v1/customers/[national-id]/?search=[redacted]&page=2"
    assert record.request.GET["search"] == "[redacted]" and record.request.GET["page"] == "2"
    assert "110101198807153216" not in record.request.META["PATH_INFO"]
    assert record.request.method == "GET"  # everything else is the request's own


def test_ordinary_numbers_and_dates_are_left_alone():
    text = "close of business 2026-03-01 done: 1200 debts in 3.5 s, id 12345678901234567890, amount 1413.50"
    assert redact_text(text) == text


def test_the_gunicorn_settings_keep_query_strings_out_and_filter_every_handler():
    from backoffice.logfilters import GUNICORN_ACCESS_LOG_FORMAT, GUNICORN_LOGCONFIG

    assert "%(U)s" in GUNICORN_ACCESS_LOG_FORMAT
    for atom in ("%(r)s", "%(q)s", "%(f)s"):
        assert atom not in GUNICORN_ACCESS_LOG_FORMAT
    assert set(GUNICORN_LOGCONFIG["loggers"]) == {"gunicorn.error", "gunicorn.access"}
    for handler in GUNICORN_LOGCONFIG["handlers"].values():
        assert handler["filters"] == ["redact_personal_data"]
    assert (
        GUNICORN_LOGCONFIG["filters"]["redact_personal_data"]["()"]
        == "backoffice.logfilters.RedactPersonalData"
    )

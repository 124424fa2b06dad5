"""SMS console and file backends, webhook signing, template checks, admin screens."""

import io
import threading
from datetime import date

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from cases.messaging import get_sms_backend
from cases.messaging.console import ConsoleSmsBackend
from cases.messaging.file import FileSmsBackend, read_outbox
from cases.messaging.render import TemplateRenderError, check_template_source
from cases.messaging.signing import sign, verify
from cases.models import DunningStep, MessageTemplate
from cases.services.close_of_business import close_chunk
from cases.services.dunning import install_default_ladder
from tests.cases.test_messaging_queue import debt_with_contacts


def test_console_backend_prints_only_a_masked_number_and_the_length_by_default(settings):
    settings.SMS_CONSOLE_SHOW_CONTENT = False
    stream = io.StringIO()

    result = ConsoleSmsBackend(stream=stream).send(to="+8613800138000", body="hello", reference="r1")

    printed = stream.getvalue()
    assert result.provider_id.startswith("console-")
    assert result.provider_id in printed and "r1" in printed and "8000" in printed
    assert "13800138000" not in printed and "hello" not in printed
    assert "5 characters" in printed


def test_console_backend_prints_the_message_when_the_setting_says_so(settings):
    settings.SMS_CONSOLE_SHOW_CONTENT = True
    stream = io.StringIO()

    ConsoleSmsBackend(stream=stream).send(to="+8613800138000", body="hello", reference="r1")

    assert "+8613800138000" in stream.getvalue() and "hello" in stream.getvalue()


def test_file_backend_writes_one_json_line_per_message_from_many_threads(tmp_path):
    backend = FileSmsBackend(tmp_path / "out.jsonl")
    threads = [
        threading.Thread(target=backend.send, kwargs={"to": "+86138", "body": f"m{n}", "reference": f"r{n}"})
        for n in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    lines = read_outbox(tmp_path / "out.jsonl")
    assert sorted(line["reference"] for line in lines) == sorted(f"r{n}" for n in range(20))


def test_backend_is_chosen_by_setting(settings, tmp_path):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = tmp_path / "x.jsonl"
    assert isinstance(get_sms_backend(), FileSmsBackend)
    settings.SMS_BACKEND = "carrier-pigeon"
    with pytest.raises(ImproperlyConfigured, match="SMS_BACKEND"):
        get_sms_backend()
    settings.SMS_BACKEND = "http"
    settings.SMS_HTTP_URL = ""
    with pytest.raises(ImproperlyConfigured, match="SMS_HTTP_URL"):
        get_sms_backend()


def test_signature_verifies_only_the_exact_body_and_secret():
    body = b'{"provider_id": "p1", "status": "delivered"}'
    signature = sign(body, "s3cret")

    assert verify(body, signature, "s3cret")
    assert not verify(body + b" ", signature, "s3cret")
    assert not verify(body, signature, "other")
    assert not verify(body, signature, "")
    assert not verify(body, None, "s3cret")


def test_template_check_names_the_syntax_error_line():
    with pytest.raises(TemplateRenderError, match="line 2"):
        check_template_source(subject="", body="ok\n{% for %}", channel="sms", language="en")


@pytest.mark.django_db
def test_admin_refuses_a_template_that_would_not_render(admin_client):
    response = admin_client.post(
        reverse("admin:cases_messagetemplate_add"),
        {"code": "bad", "channel": "sms", "language": "en", "body": "{{ nope }}", "active": "on"},
    )

    assert response.status_code == 200
    assert "unknown variable" in response.content.decode()
    assert not MessageTemplate.objects.filter(code="bad").exists()


@pytest.mark.django_db
def test_admin_previews_a_template_against_a_debt(admin_client):
    debt = debt_with_contacts()
    install_default_ladder(debt.product.policy)
    template = MessageTemplate.objects.get(code="overdue-day-1", language="en")

    url = reverse("admin:cases_messagetemplate_preview", args=[template.pk])
    response = admin_client.get(url, {"debt": debt.pk})

    assert response.status_code == 200
    assert debt.account_number in response.content.decode()


@pytest.mark.django_db
def test_admin_step_preview_lists_the_debts_it_would_hit(admin_client):
    debt = debt_with_contacts()
    install_default_ladder(debt.product.policy)
    # Age the debt only: the full close of business would fire the step.
    close_chunk(first_id=debt.pk, last_id=debt.pk, business_date=date(2026, 2, 3))
    step = DunningStep.objects.get(policy=debt.product.policy, offset_days=3)

    url = reverse("admin:cases_dunningstep_preview", args=[step.pk])
    response = admin_client.get(url, {"date": "2026-02-03"})

    assert response.status_code == 200
    assert debt.account_number in response.content.decode()


@pytest.mark.django_db
def test_admin_message_list_loads(admin_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        response = admin_client.get(reverse("admin:cases_message_changelist"))
    assert response.status_code == 200

"""The admin's second factor (issue #14), with enforcement ON.

``tests/conftest.py`` switches the gate off for the rest of the suite (its
docstring says why); every test here runs with ``settings.OTP_ENFORCE = True``
(the ``enforced`` fixture is autouse) unless it is about the demo switch.
``client.force_login`` stands for the password step: a session with a user
and no verified device, exactly what the admin's login leaves behind.
"""

import os
import subprocess
import sys
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from backoffice import second_factor
from tests.factories import UserFactory

pytest_plugins = ["tests.personas"]
pytestmark = pytest.mark.django_db

ADMIN_INDEX = "/admin/"
VERIFY = "/admin/second-factor/"
ENROL = "/admin/second-factor/enrol/"
BANNER = "Second factor not enforced (demo settings)"
BASE_DIR = Path(django_settings.BASE_DIR)


@pytest.fixture(autouse=True)
def enforced(settings):
    settings.OTP_ENFORCE = True
    settings.OTP_REQUIRED_FOR_ALL = False
    return settings


def code_for(device: TOTPDevice, at: float | None = None) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() if at is None else at
    return f"{totp.token():0{device.digits}d}"


def enrol(user) -> tuple[TOTPDevice, list[str]]:
    """A confirmed authenticator and backup codes, as the enrolment page leaves them."""
    device = second_factor.pending_authenticator(user)
    return second_factor.confirm_authenticator(user=user, device_id=device.pk, code=code_for(device))


def full_id_permission() -> Permission:
    return Permission.objects.get(codename="view_full_id", content_type__app_label="customers")


def fresh_user(user):
    return type(user).objects.get(pk=user.pk)


# --------------------------------------------------------------------------
# Who is asked


def test_supervisor_without_a_device_is_sent_to_enrolment(client, supervisor):
    client.force_login(supervisor)

    response = client.get("/admin/cases/collectioncase/")

    assert response.status_code == 302
    assert response.url == ENROL + "?next=%2Fadmin%2Fcases%2Fcollectioncase%2F"


def test_supervisor_with_a_device_but_not_verified_is_sent_to_verify(client, supervisor):
    enrol(supervisor)
    client.force_login(supervisor)

    response = client.get(ADMIN_INDEX)

    assert response.status_code == 302
    assert response.url.startswith(VERIFY + "?next=")


@pytest.mark.parametrize(
    "persona", ["administrator", "supervisor", "compliance", "agency", "payments", "superuser"]
)
def test_every_role_that_needs_a_second_factor_is_held_at_the_door(client, personas, persona):
    client.force_login(personas[persona])

    assert client.get(ADMIN_INDEX).url.startswith(ENROL)


@pytest.mark.parametrize("persona", ["collector", "team_lead", "legal"])
def test_collector_team_lead_and_legal_are_not_asked(client, personas, persona):
    client.force_login(personas[persona])

    assert client.get(ADMIN_INDEX).status_code == 200


def test_otp_required_for_all_asks_a_collector_too(client, collector, settings):
    settings.OTP_REQUIRED_FOR_ALL = True
    client.force_login(collector)

    assert client.get(ADMIN_INDEX).url.startswith(ENROL)


def test_a_holder_of_view_full_id_without_any_role_is_asked(client):
    user = UserFactory()
    user.user_permissions.add(full_id_permission())
    client.force_login(user)

    assert client.get(ADMIN_INDEX).url.startswith(ENROL)


def test_an_integration_service_user_is_never_asked_even_for_everyone(client, settings):
    settings.OTP_REQUIRED_FOR_ALL = True
    user = UserFactory()
    user.groups.add(Group.objects.get_or_create(name=second_factor.INTEGRATION_GROUP)[0])
    user.user_permissions.add(full_id_permission())

    assert not second_factor.needs_second_factor(fresh_user(user))


def test_an_integration_account_that_is_also_a_supervisor_is_still_asked(supervisor):
    user = fresh_user(supervisor)
    user.groups.add(Group.objects.get_or_create(name=second_factor.INTEGRATION_GROUP)[0])

    assert second_factor.needs_second_factor(fresh_user(user))


# --------------------------------------------------------------------------
# Enrolment


def test_enrolment_page_shows_uri_secret_and_qr_code_in_the_admin_look(client, supervisor):
    client.force_login(supervisor)

    response = client.get(ENROL)

    assert response.status_code == 200
    device = TOTPDevice.objects.get(user=supervisor, confirmed=False)
    body = response.content.decode()
    assert "otpauth://totp/Ledgerline%3Ap_supervisor?secret=" in body
    assert second_factor.secret_text(device) in body
    assert "<svg" in body and 'id="qr-path"' in body
    assert 'id="site-name"' in body  # the admin's header
    assert 'action="/admin/logout/"' in body
    # A reload shows the same secret (the app may have scanned it already).
    client.get(ENROL)
    assert TOTPDevice.objects.filter(user=supervisor).count() == 1


def test_a_first_right_code_confirms_and_shows_ten_backup_codes_once(client, supervisor):
    client.force_login(supervisor)
    client.get(ENROL + "?next=/admin/cases/")
    device = TOTPDevice.objects.get(user=supervisor)

    response = client.post(ENROL, {"code": code_for(device), "next": "/admin/cases/"})

    assert response.status_code == 200
    codes = response.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(code in response.content.decode() for code in codes)
    stored = StaticToken.objects.filter(device__user=supervisor).values_list("token", flat=True)
    assert set(stored) == set(codes)
    device.refresh_from_db()
    assert device.confirmed
    # The session is verified: the admin opens.
    assert client.get("/admin/cases/").status_code == 200
    # The codes are not shown again.
    page = client.get(reverse("second-factor-backup-codes")).content.decode()
    assert "You have 10 unused backup codes." in page and not any(code in page for code in codes)


def test_a_wrong_first_code_does_not_confirm(client, supervisor):
    client.force_login(supervisor)
    client.get(ENROL)

    response = client.post(ENROL, {"code": "000000"})

    assert response.status_code == 400
    assert "That code is not right" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=supervisor, confirmed=True).exists()
    assert not StaticDevice.objects.filter(user=supervisor).exists()
    assert client.get(ADMIN_INDEX).url.startswith(ENROL)


def test_an_enrolled_but_unverified_user_cannot_replace_the_device(client, supervisor):
    enrol(supervisor)
    client.force_login(supervisor)

    response = client.get(ENROL)

    assert response.status_code == 302 and response.url.startswith(VERIFY)
    assert TOTPDevice.objects.filter(user=supervisor).count() == 1


# --------------------------------------------------------------------------
# Verification


def test_right_code_reaches_the_admin_where_the_user_was_going(client, administrator):
    device, _codes = enrol(administrator)
    client.force_login(administrator)
    later = time.time() + 60  # the enrolment code's time step is used up

    with time_machine.travel(later, tick=False):
        response = client.post(VERIFY, {"code": code_for(device), "next": "/admin/cases/debt/"})

        assert response.status_code == 302 and response.url == "/admin/cases/debt/"
        assert client.get("/admin/cases/debt/").status_code == 200
        assert client.get(ADMIN_INDEX).status_code == 200


def test_wrong_code_is_refused_with_a_clear_message_and_the_next_try_waits(client, supervisor):
    device, _codes = enrol(supervisor)
    client.force_login(supervisor)
    start = time.time() + 60

    with time_machine.travel(start, tick=False):
        wrong = client.post(VERIFY, {"code": "123456" if code_for(device) != "123456" else "654321"})
        assert wrong.status_code == 400
        assert "That code is not right" in wrong.content.decode()
        assert client.get(ADMIN_INDEX).url.startswith(VERIFY)

        # Even the right code waits out the throttle (1 s after one failure).
        throttled = client.post(VERIFY, {"code": code_for(device)})
        assert throttled.status_code == 400
        assert "Too many wrong codes (1)" in throttled.content.decode()

    with time_machine.travel(start + 2, tick=False):
        assert client.post(VERIFY, {"code": code_for(device)}).status_code == 302
        assert client.get(ADMIN_INDEX).status_code == 200
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


def test_repeated_wrong_codes_lock_for_longer_each_time(supervisor):
    device, _codes = enrol(supervisor)
    start = timezone.now() + timedelta(minutes=1)
    for failures in range(1, 6):
        # Each try comes just after the previous lock ends.
        with time_machine.travel(start + timedelta(seconds=2**failures), tick=False):
            with pytest.raises(ValidationError):
                second_factor.verify_code(user=supervisor, code="000001")
    device.refresh_from_db()
    assert device.throttling_failure_count == 5
    allowed, extra = device.verify_is_allowed()
    assert not allowed and extra["failure_count"] == 5


def test_a_backup_code_works_once(client, supervisor):
    _device, codes = enrol(supervisor)
    client.force_login(supervisor)

    response = client.post(VERIFY, {"code": codes[3].upper()})

    assert response.status_code == 302
    assert client.get(ADMIN_INDEX).status_code == 200
    assert StaticToken.objects.filter(device__user=supervisor).count() == 9

    client.logout()
    client.force_login(supervisor)
    again = client.post(VERIFY, {"code": codes[3]})
    assert again.status_code == 400
    assert client.get(ADMIN_INDEX).url.startswith(VERIFY)


def test_a_code_too_long_is_a_form_error_not_a_crash(client, supervisor):
    enrol(supervisor)
    client.force_login(supervisor)

    response = client.post(VERIFY, {"code": "9" * 5000})

    assert response.status_code == 400
    assert client.get(ADMIN_INDEX).url.startswith(VERIFY)


def test_next_pointing_off_site_goes_to_the_admin_index(client, supervisor):
    _device, codes = enrol(supervisor)
    client.force_login(supervisor)

    response = client.post(VERIFY, {"code": codes[0], "next": "https://evil.example/"})

    assert response.status_code == 302 and response.url == reverse("admin:index")


def test_logout_works_from_the_verify_and_enrolment_pages(client, supervisor):
    client.force_login(supervisor)
    assert "Log out" in client.get(ENROL).content.decode()

    response = client.post(reverse("admin:logout"))

    assert response.status_code in (200, 302)
    assert "_auth_user_id" not in client.session
    assert client.get(ADMIN_INDEX).url.startswith(reverse("admin:login"))


def test_the_password_step_is_still_the_admins_login_page(client, supervisor):
    user = fresh_user(supervisor)
    user.set_password("pw-Second-factor-1")
    user.save()

    response = client.post(
        reverse("admin:login") + "?next=/admin/",
        {"username": user.username, "password": "pw-Second-factor-1", "next": "/admin/"},
    )

    assert response.status_code == 302
    assert client.get(response.url).url.startswith(ENROL)


# --------------------------------------------------------------------------
# The API's session authentication


def test_session_api_call_of_an_unverified_supervisor_is_refused_with_json(client, supervisor):
    client.force_login(supervisor)

    response = client.get("/api/v1/cases/")

    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "second_factor_required"
    assert response.json()["verify_url"] == ENROL


def test_session_api_call_after_verification_is_answered(client, supervisor):
    _device, codes = enrol(supervisor)
    client.force_login(supervisor)
    client.post(VERIFY, {"code": codes[0]})

    assert client.get("/api/v1/cases/").status_code == 200


def test_session_api_call_of_a_collector_is_answered(client, collector):
    client.force_login(collector)

    assert client.get("/api/v1/cases/").status_code == 200


# --------------------------------------------------------------------------
# Devices: the administrator's screens and the reset command


def test_administrator_deletes_a_lost_device_but_cannot_add_one(client, administrator, supervisor):
    admin_device, codes = enrol(administrator)
    lost, _ = enrol(supervisor)
    client.force_login(administrator)
    client.post(VERIFY, {"code": codes[0]})

    assert client.get("/admin/otp_totp/totpdevice/").status_code == 200
    assert client.get("/admin/otp_totp/totpdevice/add/").status_code == 403
    change = client.get(f"/admin/otp_totp/totpdevice/{lost.pk}/change/").content.decode()
    assert lost.key not in change  # secrets stay hidden
    response = client.post(f"/admin/otp_totp/totpdevice/{lost.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(pk=lost.pk).exists()
    assert LogEntry.objects.filter(object_id=str(lost.pk), action_flag=DELETION, user=administrator).exists()


def test_reset_command_removes_every_device_and_logs_who_and_why(client, supervisor, administrator):
    device, _codes = enrol(supervisor)
    out = StringIO()

    call_command(
        "reset_second_factor", supervisor.username, reason="lost phone", by=administrator.username, stdout=out
    )

    assert "Removed 2" in out.getvalue()
    assert not TOTPDevice.objects.filter(user=supervisor).exists()
    assert not StaticDevice.objects.filter(user=supervisor).exists()
    entry = LogEntry.objects.get(
        object_id=str(device.pk), action_flag=DELETION, content_type__app_label="otp_totp"
    )
    assert entry.user == administrator and "lost phone" in entry.change_message
    client.force_login(supervisor)
    assert client.get(ADMIN_INDEX).url.startswith(ENROL)


def test_reset_command_refuses_an_unknown_user_or_no_reason(supervisor):
    with pytest.raises(CommandError, match="No user named"):
        call_command("reset_second_factor", "nobody-here", reason="x", stdout=StringIO())
    with pytest.raises(CommandError, match="reason"):
        call_command("reset_second_factor", supervisor.username, reason="  ", stdout=StringIO())


# --------------------------------------------------------------------------
# The demo switch


def test_demo_banner_on_every_admin_page_when_not_enforced(client, supervisor, settings):
    settings.OTP_ENFORCE = False
    assert BANNER in client.get(reverse("admin:login")).content.decode()
    client.force_login(supervisor)

    for url in (ADMIN_INDEX, "/admin/cases/collectioncase/", reverse("audit-trail"), ENROL):
        response = client.get(url)
        assert response.status_code == 200, url
        assert BANNER in response.content.decode(), url


def test_no_banner_when_enforced(client, collector):
    client.force_login(collector)

    assert BANNER not in client.get(ADMIN_INDEX).content.decode()
    assert BANNER not in client.get(reverse("admin:login")).content.decode()


def _settings_in_a_fresh_process(**env) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("OTP_", "DEBUG"))}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import backoffice.settings as s; print('OTP_ENFORCE', s.OTP_ENFORCE)"],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_settings_refuse_otp_enforce_false_when_debug_is_false():
    result = _settings_in_a_fresh_process(DEBUG="false", SECRET_KEY="k" * 64, OTP_ENFORCE="false")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "OTP_ENFORCE" in result.stderr


def test_settings_enforce_by_default_and_allow_the_demo_switch_only_with_debug():
    production = _settings_in_a_fresh_process(DEBUG="false", SECRET_KEY="k" * 64)
    demo = _settings_in_a_fresh_process(DEBUG="true", OTP_ENFORCE="false")

    assert production.returncode == 0 and "OTP_ENFORCE True" in production.stdout
    assert demo.returncode == 0 and "OTP_ENFORCE False" in demo.stdout

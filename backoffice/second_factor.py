"""The second factor for staff (issue #14): who needs one, their devices, and
the gate that holds an unverified session at the door.

django-otp keeps the devices (a TOTP authenticator app, and a "static"
device holding ten one-time backup codes) and marks a session verified
(``django_otp.login``; ``OTPMiddleware`` puts ``user.is_verified()`` on every
request). This module decides the rest:

- ``needs_second_factor(user)``: superusers, members of Administrator,
  Supervisor, Compliance and Agency, and anyone holding
  ``customers.view_full_id``; everyone when ``OTP_REQUIRED_FOR_ALL``. Members
  of the Integration group are API service users and never need one, unless
  they are also superusers or hold one of those roles (a person's account
  put in the service group by mistake keeps its second factor).
- The password step stays the admin's own login view (django-axes guards
  it). ``SecondFactorMiddleware`` then sends a user who needs a second
  factor and has not verified one in this session to the verify page, or to
  the enrolment page when they have no confirmed device; on ``/api/`` it
  answers 403 with a JSON reason instead, so the browsable API's session
  authentication cannot step around the admin's second factor. Requests
  authenticated by an API token carry no session user and pass untouched
  (tokens are ``auth/token/``'s business).
- ``settings.OTP_ENFORCE`` false switches the gate off; settings allow that
  only with ``DEBUG`` (the demo), and ``admin/base_site.html`` then shows a
  banner on every admin page.

Wrong codes are bounded by django-otp's per-device throttling: after n
failures the next try is refused for factor × 2^(n-1) seconds
(``OTP_TOTP_THROTTLE_FACTOR``, ``OTP_STATIC_THROTTLE_FACTOR``).
"""

from __future__ import annotations

import logging
from base64 import b32encode
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.admin.models import DELETION, LogEntry
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import devices_for_user
from django_otp.models import VerifyNotAllowed
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from backoffice.roles import ADMINISTRATOR, AGENCY, COMPLIANCE, INTEGRATION, PAYMENTS, SUPERVISOR

log = logging.getLogger("ledgerline.second_factor")

# Payments staff approve money that people entered (maker-checker): they need it too.
SECOND_FACTOR_ROLES = frozenset({ADMINISTRATOR, SUPERVISOR, COMPLIANCE, AGENCY, PAYMENTS})
FULL_ID_PERMISSION = "customers.view_full_id"
# API service users (statement imports, the payment API): token only.
INTEGRATION_GROUP = INTEGRATION

AUTHENTICATOR_NAME = "Authenticator app"
BACKUP_CODES_NAME = "Backup codes"
BACKUP_CODE_COUNT = 10
# Longest code a form accepts: a backup code is 8 characters, a TOTP code 6
# (or 8) digits; people paste them with spaces or dashes.
CODE_MAX_LENGTH = 16

_CACHE_ATTR = "_ledgerline_needs_second_factor"


# --------------------------------------------------------------------------
# Who


def enforced() -> bool:
    return bool(getattr(settings, "OTP_ENFORCE", True))


def needs_second_factor(user) -> bool:
    """Whether ``user`` must verify a second factor to use the admin or a
    session on the API (see the module docstring). Cached on the user object,
    which lives for one request."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = _needs_second_factor(user)
        setattr(user, _CACHE_ATTR, cached)
    return cached


def _needs_second_factor(user) -> bool:
    groups = set(user.groups.values_list("name", flat=True))
    privileged = user.is_superuser or bool(groups & SECOND_FACTOR_ROLES)
    if privileged:
        return True
    if INTEGRATION_GROUP in groups:
        return False
    return bool(getattr(settings, "OTP_REQUIRED_FOR_ALL", False)) or user.has_perm(FULL_ID_PERMISSION)


def is_verified(user) -> bool:
    """Verified with a confirmed device in this session (``OTPMiddleware``)."""
    check = getattr(user, "is_verified", None)
    return bool(check and check())


# --------------------------------------------------------------------------
# Devices


def confirmed_authenticator(user) -> TOTPDevice | None:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("-id").first()


def backup_device(user) -> StaticDevice | None:
    return StaticDevice.objects.devices_for_user(user, confirmed=True).order_by("-id").first()


def has_confirmed_device(user) -> bool:
    return any(True for _device in devices_for_user(user, confirmed=True))


def pending_authenticator(user) -> TOTPDevice:
    """The unconfirmed authenticator the enrolment page shows, made once and
    kept until confirmed, so reloading the page does not change the secret
    the user may already have scanned."""
    device = TOTPDevice.objects.devices_for_user(user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    return device


def secret_text(device: TOTPDevice) -> str:
    """The secret as people type it into an app: base32 in groups of four."""
    raw = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def qr_code_svg(data: str) -> str:
    """An inline SVG of ``data`` (white background: readable in dark mode;
    no script or style attribute, so the Content-Security-Policy allows it)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=10, border=2)
    return image.to_string(encoding="unicode")


def normalise_code(code: str) -> str:
    return "".join(ch for ch in (code or "") if ch not in " -\t").lower()


def _refusal(device) -> ValidationError | None:
    """A throttled device's refusal, or ``None`` when a try is allowed now."""
    allowed, extra = device.verify_is_allowed()
    if allowed:
        return None
    extra = extra or {}
    if extra.get("reason") == VerifyNotAllowed.N_FAILED_ATTEMPTS:
        locked_until = extra.get("locked_until")
        seconds = max(1, int((locked_until - timezone.now()).total_seconds()) + 1) if locked_until else 1
        return ValidationError(
            _("Too many wrong codes (%(count)d). Wait %(seconds)d seconds and try again.")
            % {"count": extra.get("failure_count", 0), "seconds": seconds},
            code="throttled",
        )
    return ValidationError(_("Codes cannot be checked for this device now."), code="throttled")


def _wrong_code() -> ValidationError:
    return ValidationError(
        _(
            "That code is not right. Enter the current code from your authenticator app, "
            "or an unused backup code."
        ),
        code="invalid_code",
    )


def _check(device, token: str) -> None:
    """Verify ``token`` on ``device`` (locked by the caller), throttled."""
    refusal = _refusal(device)
    if refusal is not None:
        raise refusal
    if not device.verify_token(token):
        # ``verify_token`` counted the failure (the next try waits).
        raise _wrong_code()


def confirm_authenticator(*, user, device_id: int, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the pending authenticator ``device_id`` of ``user`` with its
    first code; issue fresh backup codes. Returns the device and the codes
    (shown once: only their holder keeps them). Raises ``ValidationError``
    on a wrong or throttled code. The failure count is committed even so."""
    token = normalise_code(code)
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update().filter(user=user, pk=device_id, confirmed=False).first()
        )
        if device is None:
            raise ValidationError(_("This enrolment has expired; start again."), code="no_device")
        refusal = _refusal(device)
        if refusal is None and device.verify_token(token):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
            codes = _issue_backup_codes(user)
            log.info("second factor enrolled: user %s", user.pk)
            return device, codes
    raise refusal or _wrong_code()


def issue_backup_codes(*, user) -> list[str]:
    """Replace ``user``'s backup codes with ten new ones (the old ones stop
    working) and return them."""
    with transaction.atomic():
        codes = _issue_backup_codes(user)
    log.info("second factor backup codes issued: user %s", user.pk)
    return codes


def _issue_backup_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=BACKUP_CODES_NAME, confirmed=True)
    codes = []
    while len(codes) < BACKUP_CODE_COUNT:
        code = StaticToken.random_token()
        # All digits would read as an authenticator code (``verify_code``).
        if code not in codes and not code.isdigit():
            codes.append(code)
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def remaining_backup_codes(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def verify_code(*, user, code: str):
    """The confirmed device of ``user`` that accepts ``code``: six digits are
    checked against the authenticator, anything else as a backup code
    (used once: django-otp deletes it). Only that one device is tried, so a
    typo never counts a failure against the other. Raises ``ValidationError``
    (wrong, throttled, no such device)."""
    token = normalise_code(code)
    model = TOTPDevice if token.isdigit() and len(token) in (6, 8) else StaticDevice
    with transaction.atomic():
        device = model.objects.select_for_update().filter(user=user, confirmed=True).order_by("-id").first()
        if device is None:
            error = _wrong_code()
        else:
            try:
                _check(device, token)
            except ValidationError as exc:
                error = exc
            else:
                return device
    raise error


def login_with(request, device) -> None:
    """Mark this session verified by ``device`` (a new session key: a key
    seen before the second factor is worth nothing after it)."""
    from django_otp import login as otp_login

    request.session.cycle_key()
    otp_login(request, device)


def reset_devices(*, user, actor, reason: str) -> int:
    """Delete every device of ``user`` (a lost phone): their next login goes
    to enrolment, and any session verified by those devices is no longer
    verified. Each deletion goes to the admin's change log (``LogEntry``)
    with ``actor`` and ``reason``, as a deletion in the device screens does.
    Returns the number of devices removed."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give a reason for resetting the second factor."), code="reason_required")
    removed = 0
    with transaction.atomic():
        for model in (TOTPDevice, StaticDevice):
            devices = list(model.objects.select_for_update().filter(user=user))
            if not devices:
                continue
            LogEntry.objects.log_actions(
                user_id=actor.pk,
                queryset=devices,
                action_flag=DELETION,
                change_message=_("Second factor reset: %(reason)s") % {"reason": reason[:200]},
            )
            removed += (
                model.objects.filter(pk__in=[d.pk for d in devices]).delete()[1].get(model._meta.label, 0)
            )
    log.info("second factor reset: user %s by %s, %s devices", user.pk, actor.pk, removed)
    return removed


# --------------------------------------------------------------------------
# The gate


def _exempt_paths() -> tuple[str, ...]:
    """Paths (as ``request.path``, with the script prefix) the gate lets
    through: the second factor's own pages, logging in and out, the admin's
    JavaScript catalogue, the language switch and static files."""
    prefix = get_script_prefix()
    return (
        reverse("second-factor-verify"),  # and the pages below it
        reverse("admin:logout"),
        reverse("admin:login"),
        reverse("admin:jsi18n"),
        prefix + "i18n/",
        # Obtaining and revoking API tokens authenticate by themselves.
        prefix + "api/v1/auth/",
        settings.STATIC_URL,
    )


def _is_api(path: str) -> bool:
    return path.startswith("/api/")


class SecondFactorMiddleware:
    """After ``OTPMiddleware``: hold a session user who needs a second
    factor and has not verified one at the verify or enrolment page (HTML),
    or answer 403 with a JSON reason (``/api/``). Anonymous requests and
    token-authenticated API calls cost nothing; a verified session nothing
    more than ``OTPMiddleware``'s device lookup; any other session one query
    (the user's groups)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if enforced():
            refused = self._refuse(request)
            if refused is not None:
                return refused
        return self.get_response(request)

    def _refuse(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if request.path.startswith(_exempt_paths()):
            return None
        if is_verified(user) or not needs_second_factor(user):
            return None
        enrolled = has_confirmed_device(user)
        target = reverse("second-factor-verify" if enrolled else "second-factor-enrol")
        if _is_api(request.path_info):
            return JsonResponse(
                {
                    "detail": _(
                        "This account needs a second factor: verify it in the admin before using "
                        "the API with this session, or use an API token."
                    ),
                    "code": "second_factor_required",
                    "enrolled": enrolled,
                    "verify_url": target,
                },
                status=403,
            )
        if request.method in ("GET", "HEAD"):
            target += "?" + urlencode({"next": request.get_full_path()})
        return redirect(target)

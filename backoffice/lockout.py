"""Login lockout with django-axes (issue #14, "who gets in").

Every password check goes through ``django.contrib.auth.authenticate`` with
the request: the admin login form and ``POST /api/v1/auth/token/``
(``backoffice.api.auth``). ``LockoutBackend`` comes first in
``AUTHENTICATION_BACKENDS``: once a username, or a client address, has
``AXES_FAILURE_LIMIT`` failures within ``AXES_COOLOFF_TIME``, it refuses
before the password is even compared, so the right password no longer helps
an attacker who guessed it on attempt 40.

What this module adds to axes:

- ``LockoutBackend``: axes' backend, except that a call without a request
  (the test client's ``login``, a management command) is not a client
  signing in and passes on to the next backend instead of raising; every
  login screen and endpoint of the project passes its request.
- ``client_address``: the address axes counts, read like the API throttles
  read it (``NUM_PROXIES`` hops from the right of ``X-Forwarded-For``, else
  ``REMOTE_ADDR``), and only ever a valid IP address (the column is an IP
  field; a forged header must not become a database error).
- ``login_name``: the name axes counts, cut to the longest username there
  can be. Django's admin login form does not enforce ``max_length`` before
  it authenticates, and axes' username column is 255 characters: a longer
  name must not reach PostgreSQL as a 500.
- ``lockout_response``: what a locked-out login gets (429 with
  ``Retry-After``): a page in the admin's look, or JSON ``{"detail": …}``
  under ``/api/``. Never the password form again, never a 500.
- ``record_lockout``: each lockout (the failure that reaches the limit) is
  written to the access records (``AccessRecord.Action.LOGIN_LOCKED_OUT``),
  with the account the name belongs to, or no user when it belongs to none.
  Refused attempts during the lockout are not recorded again (axes keeps
  them on the attempt row), so a flood cannot flood the audit.
  Connected in ``BackofficeConfig.ready``.
"""

from __future__ import annotations

import ipaddress
import json
import logging

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from backoffice.models import AccessRecord
from backoffice.services import record_access

log = logging.getLogger("ledgerline.security")


class LockoutBackend(AxesStandaloneBackend):
    """Refuses a locked-out username or address; authenticates nobody itself."""

    def authenticate(self, request=None, username=None, password=None, **kwargs):
        if request is None:
            # Not a client: no address to count, nothing to lock out.
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def _ip(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def client_address(request) -> str | None:
    """The client's IP address, or ``None`` when nothing valid is known."""
    remote = request.META.get("REMOTE_ADDR")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    hops = settings.NUM_PROXIES
    if hops and forwarded:
        addresses = forwarded.split(",")
        return _ip(addresses[-min(hops, len(addresses))]) or _ip(remote)
    return _ip(remote)


def login_name(request, credentials) -> str | None:
    """``AXES_USERNAME_CALLABLE``: axes' own lookup (the credentials, else the
    posted form), at most as long as a username can be."""
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        name = credentials.get(field)
    else:
        name = getattr(request, "data", request.POST).get(field)
    if not isinstance(name, str):
        return None
    return name[: get_user_model()._meta.get_field(get_user_model().USERNAME_FIELD).max_length]


def cool_off_seconds(request=None) -> int:
    return int(get_cool_off(request).total_seconds())


def lockout_message() -> str:
    return _(
        "Too many failed sign-in attempts for this account or from this address. Signing in is "
        "locked for up to %(minutes)d minutes; an administrator can unlock it sooner."
    ) % {"minutes": settings.AXES_COOLOFF_MINUTES}


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: 429 with ``Retry-After`` (the longest the
    lockout can still last) and a message that does not say whether the
    account exists."""
    message = lockout_message()
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=429)
    else:
        context = {
            **admin.site.each_context(request),
            "title": _("Signing in is locked"),
            "message": message,
        }
        response = render(request, "admin/ledgerline/login_locked_out.html", context, status=429)
    response["Retry-After"] = str(cool_off_seconds(request))
    return response


def record_lockout(sender, request, username, ip_address, **kwargs) -> None:
    """``axes.signals.user_locked_out`` receiver: one access record per lockout.

    Axes sends the signal for the failure that reaches the limit (it has
    just counted it: ``axes_failures_since_start`` is set) and again for
    every attempt refused while locked (not counted: it is still ``None``);
    only the first is a new lockout.
    """
    failures = getattr(request, "axes_failures_since_start", None)
    if failures is None:
        return
    user = None
    if username:
        model = get_user_model()
        user = model._default_manager.filter(**{model.USERNAME_FIELD: username}).first()
    detail = json.dumps(
        {
            "username": username or "",
            "address": ip_address or "",
            "path": getattr(request, "axes_path_info", "")[:255],
            "failures": failures,
            "cool_off_minutes": settings.AXES_COOLOFF_MINUTES,
        },
        sort_keys=True,
    )
    record = record_access(user=user, action=AccessRecord.Action.LOGIN_LOCKED_OUT, obj=user, detail=detail)
    # No name or address in the log line: the access record holds them.
    log.warning("login locked out after %s failures (access record %s)", failures, record.pk)

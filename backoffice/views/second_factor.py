"""The second factor's pages inside the admin (issue #14): enrol an
authenticator app, verify a code after the password, and replace the
backup codes.

The password step is the admin's login view; ``backoffice.second_factor``'s
middleware sends a user who must verify here (``?next=`` carries where they
were going). Pages live in the admin site (``admin.site.admin_view``: login
and staff checks, no caching, CSRF) and its look (``each_context``) without
the navigation sidebar, whose links would only bounce back here. The
header's "Log out" works on every one of them (the middleware lets the
logout URL through).
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django_otp.plugins.otp_static.models import StaticDevice

from backoffice import second_factor


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=second_factor.CODE_MAX_LENGTH,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "inputmode": "text", "size": 12}
        ),
    )


def _next_url(request) -> str:
    """Where to go after the second factor: ``next`` when it is a path on
    this site, else the admin index."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if len(candidate) <= 2000 and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("admin:index")


def _context(request, title: str, **extra) -> dict:
    return {
        **admin.site.each_context(request),
        "title": title,
        "is_nav_sidebar_enabled": False,
        "next": _next_url(request),
        **extra,
    }


def _with_next(url: str, request) -> str:
    return f"{url}?{urlencode({'next': _next_url(request)})}"


@require_http_methods(["GET", "POST"])
def verify_view(request):
    """The code after the password: an authenticator code or a backup code."""
    user = request.user
    if not second_factor.has_confirmed_device(user):
        return redirect(_with_next(reverse("second-factor-enrol"), request))
    if second_factor.is_verified(user):
        return HttpResponseRedirect(_next_url(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = second_factor.verify_code(user=user, code=form.cleaned_data["code"])
        except ValidationError as exc:
            form.add_error("code", exc)
        else:
            second_factor.login_with(request, device)
            if isinstance(device, StaticDevice):
                left = second_factor.remaining_backup_codes(user)
                messages.warning(
                    request,
                    _("You used a backup code; %(left)d left. Replace them under “Second factor”.")
                    % {"left": left},
                )
            return HttpResponseRedirect(_next_url(request))
    status = 400 if form.errors else 200
    return render(
        request,
        "admin/second_factor/verify.html",
        _context(request, _("Second factor"), form=form),
        status=status,
    )


@require_http_methods(["GET", "POST"])
def enrol_view(request):
    """Set up an authenticator app: the provisioning URI and the secret as
    text and as a QR code, confirmed by a first code; the backup codes are
    shown once, in the answer to that confirmation."""
    user = request.user
    if second_factor.has_confirmed_device(user) and not second_factor.is_verified(user):
        # Replacing a device takes a verified session (or an administrator's reset).
        return redirect(_with_next(reverse("second-factor-verify"), request))
    device = second_factor.pending_authenticator(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = second_factor.confirm_authenticator(
                user=user, device_id=device.pk, code=form.cleaned_data["code"]
            )
        except ValidationError as exc:
            form.add_error("code", exc)
        else:
            second_factor.login_with(request, device)
            return render(
                request,
                "admin/second_factor/backup_codes.html",
                _context(request, _("Your backup codes"), codes=codes, enrolled=True),
            )
    uri = device.config_url
    return render(
        request,
        "admin/second_factor/enrol.html",
        _context(
            request,
            _("Set up your second factor"),
            form=form,
            provisioning_uri=uri,
            secret=second_factor.secret_text(device),
            # Generated here from our own data: an <svg> with no script.
            qr_svg=mark_safe(second_factor.qr_code_svg(uri)),  # noqa: S308
        ),
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def backup_codes_view(request):
    """How many backup codes are left; POST replaces them with ten new ones
    (shown once). Needs a session verified by the second factor."""
    user = request.user
    if not second_factor.is_verified(user):
        return redirect(_with_next(reverse("second-factor-verify"), request))
    if request.method == "POST":
        codes = second_factor.issue_backup_codes(user=user)
        return render(
            request,
            "admin/second_factor/backup_codes.html",
            _context(request, _("Your backup codes"), codes=codes, enrolled=False),
        )
    return render(
        request,
        "admin/second_factor/backup_codes.html",
        _context(request, _("Backup codes"), codes=None, left=second_factor.remaining_backup_codes(user)),
    )


def second_factor_urls() -> list:
    """Mount with ``path("admin/second-factor/", include(second_factor_urls()))``
    before ``path("admin/", admin.site.urls)``."""
    return [
        path("", admin.site.admin_view(verify_view), name="second-factor-verify"),
        path("enrol/", admin.site.admin_view(enrol_view), name="second-factor-enrol"),
        path("backup-codes/", admin.site.admin_view(backup_codes_view), name="second-factor-backup-codes"),
    ]

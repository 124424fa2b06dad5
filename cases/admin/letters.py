"""Admin views for demand letters: preview one against a real debt, and
download a letter that was sent.

- ``preview_demand_letter_view``: the letter for a debt in a language
  (``?language=zh-hans|en``, default the customer's; ``?date=YYYY-MM-DD``,
  default today), rendered now and returned inline as PDF. Nothing is
  stored or sent.
- ``download_letter_view``: the stored PDF of a letter ``Message``.

Both look the row up through ``backoffice.access`` (``debts_for`` /
``messages_for``): a debt or letter the user may not see is a 404, so ids
cannot be probed. Every preview and download is logged on the
``ledgerline.audit`` logger with who, what and when, since both show a
customer's debt, and written as a ``backoffice.models.AccessRecord``.

Wiring (``cases/admin.py``): ``DebtAdmin.get_urls`` returns
``letter_urls() + super().get_urls()``; the URL names are then
``admin:cases_debt_letter_preview`` (args: debt id) and
``admin:cases_message_letter_download`` (args: message id).
"""

import logging
from datetime import date

from django.contrib.admin.views.decorators import staff_member_required
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from backoffice.access import debts_for, messages_for
from backoffice.models import AccessRecord
from backoffice.services import record_access
from cases.letters.render import render_demand_letter
from cases.models.dunning import LANGUAGES, Channel

audit_log = logging.getLogger("ledgerline.audit")

PREVIEW_URL_NAME = "cases_debt_letter_preview"
DOWNLOAD_URL_NAME = "cases_message_letter_download"


def _audit(event: str, request, **what) -> None:
    audit_log.info(
        event,
        extra={
            "user_id": request.user.pk,
            "username": request.user.get_username(),
            "at": timezone.now().isoformat(),
            **what,
        },
    )


@require_GET
@never_cache
@staff_member_required
def preview_demand_letter_view(request, debt_id: int):
    debt = get_object_or_404(debts_for(request.user).select_related("customer"), pk=debt_id)
    language = request.GET.get("language") or debt.customer.preferred_language
    if language not in dict(LANGUAGES):
        return HttpResponseBadRequest(_("Unknown letter language."))
    try:
        today = date.fromisoformat(request.GET["date"]) if request.GET.get("date") else timezone.localdate()
    except ValueError:
        return HttpResponseBadRequest(_("The date must be YYYY-MM-DD."))
    pdf = render_demand_letter(debt=debt, language=language, today=today)
    _audit(
        "demand letter previewed",
        request,
        debt_id=debt.pk,
        case_id=debt.case_id,
        language=language,
        business_date=today.isoformat(),
    )
    record_access(
        user=request.user,
        action=AccessRecord.Action.PREVIEW_LETTER,
        obj=debt,
        detail=f"language={language} date={today.isoformat()}",
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = get_valid_filename(f"preview-{debt.account_number}-{today.isoformat()}-{language}.pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@require_GET
@never_cache
@staff_member_required
def download_letter_view(request, message_id: int):
    # ``messages_for``: agency staff download the lender's letters only where
    # the placement shares the contact history (issue #15).
    letters = messages_for(request.user).filter(channel=Channel.LETTER)
    message = get_object_or_404(letters, pk=message_id)
    if not message.document:
        raise Http404(_("This letter has no document."))
    try:
        handle = message.document.open("rb")
    except FileNotFoundError:
        raise Http404(_("The letter's file is missing.")) from None
    _audit(
        "demand letter downloaded",
        request,
        message_id=message.pk,
        debt_id=message.debt_id,
        case_id=message.case_id,
        document=message.document.name,
    )
    record_access(
        user=request.user,
        action=AccessRecord.Action.DOWNLOAD_LETTER,
        obj=message,
        detail=message.document.name,
    )
    return FileResponse(
        handle,
        as_attachment=True,
        filename=message.document.name.rsplit("/", 1)[-1],
        content_type="application/pdf",
    )


def letter_urls() -> list:
    """URL patterns for ``DebtAdmin.get_urls`` (put them before ``super()``'s:
    the admin's catch-all would take them otherwise). Wrap with
    ``self.admin_site.admin_view`` there if wanted; the views already require
    an active staff user."""
    return [
        path("<int:debt_id>/demand-letter/", preview_demand_letter_view, name=PREVIEW_URL_NAME),
        path("letters/<int:message_id>/download/", download_letter_view, name=DOWNLOAD_URL_NAME),
    ]


def preview_links(debt) -> str:
    """Links "Preview demand letter (中文 / English)" for a debt's admin page;
    only valid once ``letter_urls`` is wired into the admin."""
    url = reverse(f"admin:{PREVIEW_URL_NAME}", args=[debt.pk])
    return format_html(
        "{} {}",
        _("Preview demand letter:"),
        format_html_join(
            " · ",
            '<a href="{}?language={}" target="_blank">{}</a>',
            ((url, code, label) for code, label in LANGUAGES),
        ),
    )


def download_link(message) -> str:
    """A "Download" link for a letter message with a document, else ``""``."""
    if message.channel != Channel.LETTER or not message.document:
        return ""
    url = reverse(f"admin:{DOWNLOAD_URL_NAME}", args=[message.pk])
    return format_html('<a href="{}">{}</a>', url, _("Download"))

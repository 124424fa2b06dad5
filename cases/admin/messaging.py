"""Screens for message templates, the dunning ladder, messages and firings.

Imported from ``cases.admin`` (registration happens on import).

- Templates are edited here; the form refuses a template that would not
  render (syntax error, unknown variable), and each template has a preview
  against a real debt the user may see (``<id>/preview/?debt=<id>``).
- Ladder steps are edited here; each has a preview of the debts it would hit
  on a date (``<id>/preview/?date=YYYY-MM-DD``, default today).
- Messages and firings are read-only: they change only through the
  services (queue, send, receipts, the ladder).
"""

from datetime import date

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template import engines
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from backoffice.access import debts_for, dunning_firings_for, messages_for, policies_for
from backoffice.admin import EstimatedCountPaginator
from cases.admin.letters import download_link
from cases.messaging.render import VARIABLES, TemplateRenderError, check_template_source
from cases.models import DunningFiring, DunningStep, Message, MessageTemplate
from cases.services.dunning import preview_step
from cases.services.messages import preview_template

PREVIEW_LIMIT = 200


_PAGE = engines["django"].from_string(
    """{% extends "admin/base_site.html" %}
{% block content %}<div id="content-main">{{ content }}</div>{% endblock %}"""
)


def _page(request, admin_site, *, title: str, content) -> TemplateResponse:
    context = {**admin_site.each_context(request), "title": title, "content": content}
    return TemplateResponse(request, _PAGE, context)


class MessageTemplateForm(forms.ModelForm):
    class Meta:
        model = MessageTemplate
        fields = ["code", "channel", "language", "subject", "body", "active"]
        help_texts = {"body": _("Variables: ") + ", ".join(f"{{{{ {name} }}}}" for name in VARIABLES)}

    def clean(self):
        data = super().clean()
        if data.get("body") is not None and data.get("channel") and data.get("language"):
            try:
                check_template_source(
                    subject=data.get("subject", ""),
                    body=data["body"],
                    channel=data["channel"],
                    language=data["language"],
                )
            except TemplateRenderError as exc:
                raise forms.ValidationError({"body": str(exc)}) from None
        return data


@admin.register(MessageTemplate)
class MessageTemplateAdmin(SimpleHistoryAdmin):
    form = MessageTemplateForm
    list_display = ["code", "channel", "language", "subject", "active", "preview_link"]
    list_filter = ["channel", "language", "active"]
    search_fields = ["code", "subject", "body"]

    @admin.display(description=_("preview"))
    def preview_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:cases_messagetemplate_preview", args=[obj.pk]), _("preview")
        )

    def get_urls(self):
        return [
            path(
                "<int:pk>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="cases_messagetemplate_preview",
            ),
            *super().get_urls(),
        ]

    def preview_view(self, request, pk: int):
        """The template rendered against ``?debt=<id>`` (a debt the user may see)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        template = MessageTemplate.objects.filter(pk=pk).first()
        if template is None:
            raise PermissionDenied
        debt_id = request.GET.get("debt", "")
        debt = debts_for(request.user).filter(pk=debt_id).first() if debt_id.isdigit() else None
        form = format_html(
            '<form method="get"><label>{} <input name="debt" value="{}" size="10"></label> '
            '<input type="submit" value="{}"></form>',
            _("Debt id"),
            debt_id,
            _("Preview"),
        )
        if debt is None:
            body = format_html("{}<p>{}</p>", form, _("Give the id of a debt you may see."))
        else:
            try:
                rendered = preview_template(template=template, debt=debt, today=timezone.localdate())
            except TemplateRenderError as exc:
                body = format_html('{}<p class="errornote">{}</p>', form, exc)
            else:
                body = format_html(
                    "{}<h2>{} {}</h2><p><strong>{}</strong></p><pre>{}</pre>",
                    form,
                    _("Debt"),
                    debt.account_number,
                    rendered.subject,
                    rendered.body,
                )
        return _page(request, self.admin_site, title=f"{_('Preview')}: {template}", content=body)


@admin.register(DunningStep)
class DunningStepAdmin(SimpleHistoryAdmin):
    list_display = [
        "policy",
        "order",
        "name",
        "trigger",
        "offset_days",
        "action",
        "template_code",
        "active",
        "preview_link",
    ]
    list_filter = ["policy", "trigger", "action", "active"]
    list_select_related = ["policy"]
    search_fields = ["name", "template_code"]
    ordering = ["policy__name", "order", "id"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(policy__in=policies_for(request.user))

    @admin.display(description=_("would hit today"))
    def preview_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:cases_dunningstep_preview", args=[obj.pk]), _("preview")
        )

    def get_urls(self):
        return [
            path(
                "<int:pk>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="cases_dunningstep_preview",
            ),
            *super().get_urls(),
        ]

    def preview_view(self, request, pk: int):
        """The debts this step would hit on ``?date=`` (default today), among those the user sees."""
        step = self.get_queryset(request).filter(pk=pk).first()
        if step is None or not self.has_view_permission(request, step):
            raise PermissionDenied
        try:
            day = date.fromisoformat(request.GET.get("date", "")) if request.GET.get("date") else None
        except ValueError:
            day = None
        day = day or timezone.localdate()
        debts = list(
            preview_step(step, day).filter(pk__in=debts_for(request.user).values("pk"))[:PREVIEW_LIMIT]
        )
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((d.account_number, d.customer, d.days_past_due, d.bucket, d.total_balance) for d in debts),
        )
        content = format_html(
            '<form method="get"><label>{} <input type="date" name="date" value="{}"></label> '
            '<input type="submit" value="{}"></form><p>{}</p>'
            "<table><thead><tr><th>{}</th><th>{}</th><th>DPD</th><th>{}</th><th>{}</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            _("Date"),
            day.isoformat(),
            _("Preview"),
            _("%(count)d debt(s) would be hit (first %(limit)d shown).")
            % {"count": len(debts), "limit": PREVIEW_LIMIT},
            _("Account"),
            _("Customer"),
            _("Bucket"),
            _("Balance"),
            rows,
        )
        return _page(request, self.admin_site, title=f"{_('Would hit')}: {step}", content=content)


class _ReadOnly(SimpleHistoryAdmin):
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Message)
class MessageAdmin(_ReadOnly):
    list_display = [
        "created_at",
        "channel",
        "recipient",
        "status",
        "language",
        "template",
        "attempts",
        "case",
        "document_link",
    ]
    list_filter = ["status", "channel", "language"]
    list_select_related = ["template", "case__customer"]
    search_fields = ["recipient", "provider_id", "idempotency_key"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Message._meta.fields if f.name != "document"] + ["document_link"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(pk__in=messages_for(request.user).values("pk"))

    @admin.display(description=_("document"))
    def document_link(self, obj):
        # Through the logged download view, never the raw media URL.
        return download_link(obj)


@admin.register(DunningFiring)
class DunningFiringAdmin(_ReadOnly):
    list_display = ["fired_on", "step", "debt", "cycle", "status", "retry_at", "note"]
    list_filter = ["status", "step__policy", "step__action"]
    list_select_related = ["step__policy", "debt__creditor"]
    search_fields = ["debt__account_number", "cycle"]
    readonly_fields = [f.name for f in DunningFiring._meta.fields]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(pk__in=dunning_firings_for(request.user).values("pk"))

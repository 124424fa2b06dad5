"""Bulk settlement offers for small balances (docs/small-balances.md).

Imported by ``cases.admin``. Supervisors and administrators draft an offer
(a selection rule and a discount), see its preview on the offer's page
(count, total balance, total waiver, the debts that would be skipped) and
approve it with one POST; compliance reads. Every write goes through
``cases.services.small_balances``; the rows listed come from
``backoffice.access.bulk_settlement_offers_for``.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from backoffice.access import bulk_settlement_offers_for, may_approve_bulk_offers, policies_for, products_for
from cases.models import BulkSettlementOffer, BulkSettlementOfferItem
from cases.services.small_balances import (
    _validate_draft,
    approve_bulk_offer,
    close_bulk_offer,
    preview_bulk_offer,
    save_bulk_offer_draft,
    selected_debts,
)
from cases.tasks.small_balances import approve_bulk_offer_task  # also registers the tasks

# Selections larger than this are approved by a Celery task, not in the request.
APPROVE_IN_REQUEST_MAX = 100

# How many skipped debts the preview and how many items the page lists.
ROWS_SHOWN = 200

EDITABLE = (
    "name",
    "policy",
    "product",
    "bucket",
    "balance_min",
    "balance_max",
    "discount_percent",
    "expires_on",
    "channel",
    "template_code",
)
RECORDED = (
    "status",
    "created_by",
    "approved_by",
    "approved_at",
    "approval_reason",
    "closed_on",
    "offered_count",
    "skipped_count",
    "total_balance",
    "total_waiver",
)


class BulkOfferForm(forms.ModelForm):
    class Meta:
        model = BulkSettlementOffer
        fields = EDITABLE

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        for name, value in cleaned.items():
            setattr(self.instance, name, value)
        for name, problems in _validate_draft(self.instance, today=timezone.localdate()).items():
            for problem in problems:
                self.add_error(name if name in self.fields else None, problem)
        return cleaned


def _money(value) -> str:
    return f"{value:,.2f}" if value is not None else "—"


@admin.register(BulkSettlementOffer)
class BulkSettlementOfferAdmin(SimpleHistoryAdmin):
    form = BulkOfferForm
    list_display = (
        "name",
        "policy",
        "product",
        "bucket",
        "band",
        "discount_percent",
        "status",
        "expires_on",
        "offered_count",
        "total_waiver",
        "approved_by",
    )
    list_filter = ("status", "policy")
    list_select_related = ("policy", "product", "approved_by")
    search_fields = ("name",)
    show_full_result_count = False

    def get_queryset(self, request):
        return bulk_settlement_offers_for(request.user).select_related("policy", "product", "approved_by")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "policy":
            kwargs["queryset"] = policies_for(request.user)
        elif db_field.name == "product":
            kwargs["queryset"] = products_for(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return EDITABLE
        return (*EDITABLE, "preview", *RECORDED, "items_table")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        if obj.status != BulkSettlementOffer.Status.DRAFT:
            return (*EDITABLE, "preview", *RECORDED, "items_table")
        return ("preview", *RECORDED, "items_table")

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        save_bulk_offer_draft(
            offer=obj,
            actor=request.user,
            today=timezone.localdate(),
            reason="bulk offer changed in admin" if change else "bulk offer drafted in admin",
        )

    def has_approve_permission(self, request) -> bool:
        user = request.user
        return user.has_perm("cases.approve_bulksettlementoffer") and may_approve_bulk_offers(user)

    @admin.display(description=_("balance band"))
    def band(self, obj):
        top = obj.balance_max if obj.balance_max is not None else obj.policy.digital_only_below
        return f"{_money(obj.balance_min)} – < {_money(top)}"

    @admin.display(description=_("preview"))
    def preview(self, obj):
        if obj.status != BulkSettlementOffer.Status.DRAFT:
            return format_html(
                "{} · {}",
                gettext("Approved selection: see the recorded totals below."),
                gettext("The preview is of drafts only."),
            )
        result = preview_bulk_offer(offer=obj)
        skipped = format_html_join(
            "",
            "<li>{} — {}</li>",
            ((s.account_number, s.reason) for s in result.skipped[:ROWS_SHOWN]),
        )
        return format_html(
            '<table class="bulk-preview"><tbody>'
            "<tr><th>{}</th><td>{}</td></tr><tr><th>{}</th><td>{}</td></tr>"
            "<tr><th>{}</th><td>{}</td></tr><tr><th>{}</th><td>{}</td></tr>"
            "<tr><th>{}</th><td>{}</td></tr></tbody></table><ul>{}</ul>",
            gettext("debts offered"),
            result.count,
            gettext("total balance"),
            _money(result.total_balance),
            gettext("total to pay"),
            _money(result.total_amount),
            gettext("total waiver"),
            _money(result.total_waiver),
            gettext("skipped"),
            len(result.skipped),
            skipped,
        )

    @admin.display(description=_("debts"))
    def items_table(self, obj):
        items = (
            BulkSettlementOfferItem.objects.filter(offer=obj)
            .select_related("debt")
            .order_by("outcome", "id")[:ROWS_SHOWN]
        )
        rows = format_html_join(
            "",
            '<tr><td>{}</td><td>{}</td><td class="num">{}</td><td class="num">{}</td>'
            '<td class="num">{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    item.debt.account_number,
                    item.get_outcome_display(),
                    _money(item.balance_at_offer),
                    _money(item.amount),
                    _money(item.waiver),
                    item.skip_reason or (f"settlement {item.settlement_id}" if item.settlement_id else ""),
                    item.message_note,
                )
                for item in items
            ),
        )
        if not rows:
            return "—"
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>"
            "<th>{}</th></tr></thead><tbody>{}</tbody></table>",
            gettext("account"),
            gettext("outcome"),
            gettext("balance"),
            gettext("to pay"),
            gettext("waiver"),
            gettext("settlement / why skipped"),
            gettext("message"),
            rows,
        )

    # --- approve and close (POST) --------------------------------------------------------

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        wrap = self.admin_site.admin_view
        return [
            path("<path:object_id>/approve/", wrap(self.approve_view), name="{}_{}_approve".format(*info)),
            path("<path:object_id>/close/", wrap(self.close_view), name="{}_{}_close".format(*info)),
            *super().get_urls(),
        ]

    def _offer_for(self, request, object_id) -> BulkSettlementOffer:
        """The offer if the user may see it (404 otherwise, like the change view)."""
        try:
            return self.get_queryset(request).get(pk=int(object_id))
        except (ValueError, BulkSettlementOffer.DoesNotExist) as exc:
            raise Http404 from exc

    def _back(self, offer) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:cases_bulksettlementoffer_change", args=[offer.pk]))

    def approve_view(self, request, object_id):
        offer = self._offer_for(request, object_id)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_approve_permission(request):
            raise PermissionDenied
        reason = (request.POST.get("reason") or "").strip() or "bulk settlement offer approved in admin"
        if offer.status == BulkSettlementOffer.Status.DRAFT and (
            selected_debts(offer).count() > APPROVE_IN_REQUEST_MAX
        ):
            return self._approve_in_background(request, offer, reason)
        try:
            result = approve_bulk_offer(
                offer=offer, actor=request.user, today=timezone.localdate(), at=timezone.now(), reason=reason
            )
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return self._back(offer)
        if not result.approved_now:
            self.message_user(
                request, gettext("This offer was already approved or closed: nothing done."), messages.WARNING
            )
        else:
            self.message_user(
                request,
                gettext("Approved: %(offered)d settlement(s) offered, %(skipped)d debt(s) skipped.")
                % {"offered": result.offered, "skipped": result.skipped},
                messages.SUCCESS,
            )
            if result.messages_not_sent:
                self.message_user(
                    request,
                    gettext("%(count)d offer message(s) were not sent (see the debts list).")
                    % {"count": result.messages_not_sent},
                    messages.WARNING,
                )
        return self._back(offer)

    def _approve_in_background(self, request, offer, reason: str):
        if len(reason) > 100:
            self.message_user(request, gettext("Keep the reason to 100 characters."), messages.ERROR)
            return self._back(offer)
        kwargs = {
            "offer_id": offer.pk,
            "actor_id": request.user.pk,
            "today": timezone.localdate().isoformat(),
            "at": timezone.now().isoformat(),
            "reason": reason,
        }
        transaction.on_commit(lambda: approve_bulk_offer_task.delay(**kwargs))
        self.message_user(
            request,
            gettext(
                "The selection is large: it is being approved in the background. Reload this page to see it."
            ),
            messages.INFO,
        )
        return self._back(offer)

    def close_view(self, request, object_id):
        offer = self._offer_for(request, object_id)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_approve_permission(request):
            raise PermissionDenied
        reason = (request.POST.get("reason") or "").strip() or "bulk offer closed in admin"
        try:
            close_bulk_offer(offer=offer, actor=request.user, today=timezone.localdate(), reason=reason)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
        else:
            self.message_user(request, gettext("The offer is closed."), messages.SUCCESS)
        return self._back(offer)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_approve": self.has_approve_permission(request)}
        return super().change_view(request, object_id, form_url, extra_context)

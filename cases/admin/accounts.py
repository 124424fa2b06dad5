"""Screens for creditors, policies, debts, the ledger, payments and cases.

The admin is a thin layer: money moves only through the services.

- Debts are placed through ``place_debt`` (API, placement files, the demo
  seed); the admin has no "add debt" form, and a debt's fields are read-only
  here (its state changes through services and close of business).
- The ledger is append-only: nobody adds, changes or deletes an entry here.
- A payment is added through ``post_payment`` (a custom add view) and
  reversed through ``reverse_payment`` (an action with a reason and a date).
- Cases and collection work (assignment, contacts, promises, plans,
  settlements, disputes, "My queue" and the case page) live in
  ``cases.admin.work`` and ``cases.admin.collector_screens``, registered from here.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers, widgets
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from backoffice.access import (
    creditors_for,
    debts_for,
    ledger_for,
    payments_for,
    policies_for,
    products_for,
    teams_for,
)
from backoffice.admin import EstimatedCountPaginator, ReadOnlyInlineMixin
from cases.admin.letters import letter_urls, preview_links
from cases.models import (
    CollectionPolicy,
    Creditor,
    Debt,
    Instalment,
    LedgerEntry,
    Payment,
    Product,
    Team,
)
from cases.policy_presets import DEFAULT_BUCKET_EDGES, PRESETS, preset
from cases.services.payments import post_payment, reverse_payment

# The debt page shows this many of the newest ledger entries; the full
# ledger is one click away in the filtered ledger list.
LEDGER_INLINE_LIMIT = 200


class ReadOnlyAdmin(SimpleHistoryAdmin):
    """A model that changes only through services: view and history only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- reference data -------------------------------------------------------


@admin.register(Creditor)
class CreditorAdmin(SimpleHistoryAdmin):
    list_display = ("name", "short_code", "phone", "email")
    search_fields = ("name", "short_code")

    def get_queryset(self, request):
        return creditors_for(request.user)


@admin.register(CollectionPolicy)
class CollectionPolicyAdmin(SimpleHistoryAdmin):
    list_display = ("name", "jurisdiction", "currency", "penalty_daily_rate", "grace_days", "charge_off_dpd")
    list_filter = ("jurisdiction",)
    search_fields = ("name",)
    fieldsets = (
        (None, {"fields": ("name", "jurisdiction", "currency")}),
        (
            _("Penalty, fees and cost cap"),
            {
                "fields": (
                    "penalty_daily_rate",
                    "penalty_base",
                    "grace_days",
                    "tolerance",
                    "cost_cap_annual_rate",
                    "late_fee_fixed",
                    "late_fee_percent",
                    "late_fee_cap",
                )
            },
        ),
        (
            _("Ageing and charge-off"),
            {"fields": ("bucket_edges", "charge_off_dpd", "accrue_after_charge_off", "limitation_years")},
        ),
        (_("Payments"), {"fields": ("waterfall", "allow_credit_balance")}),
        (
            _("Contact, promises and plans"),
            {
                "fields": (
                    "contact_hours_start",
                    "contact_hours_end",
                    "promise_grace_days",
                    "plan_default_after_missed",
                )
            },
        ),
        (
            _("Settlements and legal"),
            {"fields": ("settlement_limit_collector", "settlement_limit_team_lead", "legal_minimum_balance")},
        ),
        (_("Small balances"), {"fields": ("digital_only_below",)}),
    )

    def get_queryset(self, request):
        return policies_for(request.user)

    def get_changeform_initial_data(self, request):
        """A new policy starts from a jurisdiction preset (``?jurisdiction=US``; CN by default)."""
        initial = super().get_changeform_initial_data(request)
        jurisdiction = initial.get("jurisdiction") if initial.get("jurisdiction") in PRESETS else "CN"
        return {"jurisdiction": jurisdiction, **preset(jurisdiction), **initial}


@admin.register(Product)
class ProductAdmin(SimpleHistoryAdmin):
    list_display = ("name", "creditor", "policy")
    list_filter = ("creditor",)
    search_fields = ("name", "creditor__name")
    list_select_related = ("creditor", "policy")

    def get_queryset(self, request):
        return products_for(request.user)


@admin.register(Team)
class TeamAdmin(SimpleHistoryAdmin):
    list_display = ("name", "lead")
    search_fields = ("name",)
    list_select_related = ("lead",)
    filter_horizontal = ("members",)
    raw_id_fields = ("lead",)

    def get_queryset(self, request):
        return teams_for(request.user)


# --- debts ------------------------------------------------------------------


class BucketFilter(admin.SimpleListFilter):
    """Ageing buckets from the default edges; a ``DISTINCT`` over every debt
    (Django's default for a plain char field) is too slow on a big book."""

    title = _("bucket")
    parameter_name = "bucket"

    def lookups(self, request, model_admin):
        labels = ["current", *[f"M{i}" for i in range(1, len(DEFAULT_BUCKET_EDGES) + 1)]]
        labels.append(f"M{len(DEFAULT_BUCKET_EDGES)}+")
        return [(label, label) for label in labels]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(bucket=self.value())
        return queryset


class _NewestLedgerFormSet(forms.BaseInlineFormSet):
    def get_queryset(self):
        if not hasattr(self, "_newest"):
            newest = list(super().get_queryset().order_by("-effective_on", "-id")[:LEDGER_INLINE_LIMIT])
            newest.reverse()
            self._newest = newest
        return self._newest


class LedgerEntryInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = LedgerEntry
    formset = _NewestLedgerFormSet
    fields = ("effective_on", "component", "kind", "amount", "instalment", "payment", "source", "reason")
    verbose_name_plural = _("ledger (newest %(limit)s entries, oldest first)") % {
        "limit": LEDGER_INLINE_LIMIT
    }

    def get_queryset(self, request):
        return ledger_for(request.user).select_related("instalment", "payment").order_by("effective_on", "id")


class InstalmentInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = Instalment
    fields = ("number", "due_on", "principal", "interest", "principal_balance", "interest_balance")

    def get_queryset(self, request):
        # No ``instalments_for`` in backoffice.access: an instalment is
        # visible with its debt.
        return Instalment.objects.filter(debt__in=debts_for(request.user))


class PaymentInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = Payment
    fields = ("received_on", "amount", "channel", "reference", "status", "reversed_on", "reversal_reason")
    show_change_link = True

    def get_queryset(self, request):
        return payments_for(request.user)


@admin.register(Debt)
class DebtAdmin(ReadOnlyAdmin):
    list_display = (
        "account_number",
        "creditor",
        "product",
        "customer",
        "status",
        "bucket",
        "days_past_due",
        "total",
        "currency",
        "opened_on",
    )
    list_filter = ("status", BucketFilter, "creditor", "product")
    search_fields = ("account_number", "customer__name")
    list_select_related = ("creditor", "product__creditor", "customer")
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    inlines = [InstalmentInline, PaymentInline, LedgerEntryInline]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "account_number",
                    "creditor",
                    "product",
                    "customer",
                    "case",
                    "currency",
                    "opened_on",
                    "original_principal",
                    "status",
                )
            },
        ),
        (
            _("Ageing"),
            {
                "fields": (
                    "days_past_due",
                    "bucket",
                    "date_of_first_delinquency",
                    "delinquent_30_on",
                    "charged_off_on",
                    "last_payment_on",
                    "limitation_on",
                    "closed_through",
                )
            },
        ),
        (
            _("Balances"),
            {
                "fields": (
                    "principal_balance",
                    "interest_balance",
                    "penalty_balance",
                    "fees_balance",
                    "legal_cost_balance",
                    "credit_balance",
                    "total",
                    "ledger_link",
                    "letters",
                )
            },
        ),
    )
    readonly_fields = ("total", "ledger_link", "letters")

    def get_queryset(self, request):
        return debts_for(request.user)

    def get_urls(self):
        # Before the ModelAdmin's own patterns, whose catch-all would take them.
        return letter_urls() + super().get_urls()

    @admin.display(description=_("demand letter"))
    def letters(self, obj):
        return preview_links(obj)

    @admin.display(description=_("total balance"))
    def total(self, obj):
        return obj.total_balance

    @admin.display(description=_("ledger"))
    def ledger_link(self, obj):
        url = reverse("admin:cases_ledgerentry_changelist")
        return format_html('<a href="{}?debt={}">{}</a>', url, obj.pk, _("All ledger entries of this debt"))


# --- ledger -----------------------------------------------------------------


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    """Append-only: no one adds, changes or deletes entries here (RULES §2:
    corrections are new entries, posted by services)."""

    list_display = ("effective_on", "debt", "component", "kind", "amount", "source", "payment", "created_at")
    list_filter = ("kind", "component", "effective_on")
    search_fields = ("debt__account_number", "source", "idempotency_key")
    list_select_related = ("debt__creditor", "payment")
    ordering = ("-effective_on", "-id")
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    raw_id_fields = ("debt", "instalment", "payment", "created_by")

    def get_queryset(self, request):
        return ledger_for(request.user)

    def lookup_allowed(self, lookup, value, request=None):
        # ``?debt=<id>``: the link from the debt page.
        return lookup in {"debt", "debt__id__exact"} or super().lookup_allowed(lookup, value, request)


# --- payments ---------------------------------------------------------------


class PostPaymentForm(forms.Form):
    """What an operator enters; ``post_payment`` does every check."""

    debt = forms.ModelChoiceField(queryset=Debt.objects.none(), label=_("debt"))
    amount = forms.DecimalField(label=_("amount"), max_digits=18, decimal_places=2, min_value=0.01)
    received_on = forms.DateField(label=_("received on"), widget=widgets.AdminDateWidget)
    channel = forms.ChoiceField(label=_("channel"), choices=Payment.Channel.choices)
    reference = forms.CharField(label=_("external reference"), max_length=100)

    def __init__(self, *args, debts, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["debt"].queryset = debts
        self.fields["debt"].widget = widgets.ForeignKeyRawIdWidget(
            Payment._meta.get_field("debt").remote_field, admin_site
        )


class ReversePaymentForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=255)
    reversed_on = forms.DateField(label=_("reversed on"), widget=widgets.AdminDateWidget)


def _add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = (
        "reference",
        "debt",
        "amount",
        "currency",
        "received_on",
        "channel",
        "status",
        "reversed_on",
    )
    list_filter = ("status", "channel", "received_on")
    search_fields = ("reference", "debt__account_number")
    list_select_related = ("debt__creditor",)
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    raw_id_fields = ("debt", "created_by")
    actions = ["reverse_selected"]

    def get_queryset(self, request):
        return payments_for(request.user)

    def has_add_permission(self, request):
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.add_{opts.model_name}")

    def has_reverse_permission(self, request):
        return request.user.has_perm("cases.change_payment")

    def add_view(self, request, form_url="", extra_context=None):
        """Post a payment through ``post_payment``; its refusals show on the form."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        debts = debts_for(request.user).filter(status__in=Debt.ACTIVE_STATUSES)
        if request.method == "POST":
            form = PostPaymentForm(request.POST, debts=debts, admin_site=self.admin_site)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    result = post_payment(
                        debt=data["debt"],
                        amount=data["amount"],
                        received_on=data["received_on"],
                        channel=data["channel"],
                        reference=data["reference"],
                        actor=request.user,
                        reason="payment posted in the back office",
                    )
                except ValidationError as exc:
                    _add_service_errors(form, exc)
                else:
                    payment = result.payment
                    if result.created:
                        self.log_addition(request, payment, [{"added": {}}])
                        self.message_user(
                            request, _("Payment %s posted.") % payment.reference, messages.SUCCESS
                        )
                    else:
                        self.message_user(
                            request,
                            _("Payment %s was already posted; nothing new was posted.") % payment.reference,
                            messages.WARNING,
                        )
                    return HttpResponseRedirect(reverse("admin:cases_payment_change", args=[payment.pk]))
        else:
            initial = {"received_on": timezone.localdate(), **request.GET.dict()}
            form = PostPaymentForm(initial=initial, debts=debts, admin_site=self.admin_site)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Post a payment"),
            "form": form,
            "media": self.media + form.media,
            "submit_label": _("Post payment"),
        }
        return TemplateResponse(request, "admin/cases/payment/service_form.html", context)

    @admin.action(description=_("Reverse selected payments"), permissions=["reverse"])
    def reverse_selected(self, request, queryset):
        """Ask for the reason and date, then call ``reverse_payment`` for each."""
        if "apply" in request.POST:
            form = ReversePaymentForm(request.POST)
            if form.is_valid():
                done, failed = 0, []
                for payment in queryset.order_by("id"):
                    try:
                        reverse_payment(
                            payment=payment,
                            reversed_on=form.cleaned_data["reversed_on"],
                            reason=form.cleaned_data["reason"],
                            actor=request.user,
                        )
                        done += 1
                    except ValidationError as exc:
                        failed.append(f"{payment.reference}: {' '.join(exc.messages)}")
                if done:
                    self.message_user(request, _("%d payment(s) reversed.") % done, messages.SUCCESS)
                for line in failed:
                    self.message_user(request, line, messages.ERROR)
                return None
        else:
            form = ReversePaymentForm(initial={"reversed_on": timezone.localdate()})
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Reverse payments"),
            "form": form,
            "media": self.media + form.media,
            "payments": queryset.select_related("debt__creditor"),
            "action": "reverse_selected",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "submit_label": _("Reverse payments"),
        }
        return TemplateResponse(request, "admin/cases/payment/service_form.html", context)

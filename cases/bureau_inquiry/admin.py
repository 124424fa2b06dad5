"""Admin screens of the bureau inquiry: read-only lists of reports and
attempts (rows through ``backoffice.access``), the circuit's state, and the
"Refresh now" action (needs ``bureau_inquiry.request_bureaureport`` and a
case the user may work on; the fetch runs on a worker after commit)."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from backoffice.access import (
    bureau_attempts_for,
    bureau_reports_for,
    cases_for,
    may_request_bureau_report,
    writable_cases_for,
)
from backoffice.admin import EstimatedCountPaginator
from cases.bureau_inquiry.models import BureauCircuit, BureauInquiryAttempt, BureauReport
from cases.bureau_inquiry.services import request_refresh_now
from cases.models import CollectionCase


class ReadOnlyAdmin(SimpleHistoryAdmin):
    """Rows written only by the bureau services: list, view and history."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_request_permission(self, request):
        return may_request_bureau_report(request.user)

    @admin.action(description=_("Refresh now (the customer's open case)"), permissions=["request"])
    def refresh_now(self, request, queryset):
        customer_ids = set(queryset.values_list("customer_id", flat=True))
        cases = (
            writable_cases_for(request.user)
            .filter(customer_id__in=customer_ids)
            .exclude(stage=CollectionCase.Stage.CLOSED)
            .order_by("customer_id", "id")
        )
        queued, seen = 0, set()
        for case in cases:
            if case.customer_id in seen:
                continue
            try:
                request_refresh_now(case=case, actor=request.user, reason="refresh now (admin)")
            except ValidationError as exc:
                self.message_user(request, "; ".join(exc.messages), messages.ERROR)
                continue
            seen.add(case.customer_id)
            queued += 1
        skipped = len(customer_ids - seen)
        self.message_user(
            request,
            gettext("%(queued)d report(s) queued; %(skipped)d customer(s) without a case you may work on.")
            % {"queued": queued, "skipped": skipped},
            messages.SUCCESS if queued else messages.WARNING,
        )


@admin.register(BureauReport)
class BureauReportAdmin(ReadOnlyAdmin):
    list_display = (
        "customer",
        "debt",
        "fetched_at",
        "score",
        "open_tradelines",
        "recent_delinquencies",
        "contact_points_added",
        "employer_added",
        "request_id",
    )
    list_filter = ("bureau", "fetched_at", "employer_added")
    list_select_related = ("customer", "debt")
    search_fields = ("request_id", "customer__name", "debt__account_number")
    date_hierarchy = "fetched_at"
    actions = ["refresh_now"]
    fields = (
        "bureau",
        "customer",
        "debt",
        "fetched_at",
        "period",
        "request_id",
        "score",
        "score_model",
        "open_tradelines",
        "tradelines",
        "recent_delinquencies",
        "delinquencies",
        "skip_trace",
        "contact_points_added",
        "employer_added",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return bureau_reports_for(request.user)

    def get_urls(self):
        refresh = path(
            "refresh-case/<int:case_id>/",
            self.admin_site.admin_view(self.refresh_case_view),
            name="bureau_inquiry_bureaureport_refresh_case",
        )
        return [refresh, *super().get_urls()]

    def refresh_case_view(self, request, case_id: int):
        """The case page's "Refresh now" button (POST with a reason)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        case = cases_for(request.user).filter(pk=case_id).first()
        if case is None:
            raise Http404
        try:
            request_refresh_now(case=case, actor=request.user, reason=request.POST.get("reason", ""))
        except ValidationError as exc:
            self.message_user(request, "; ".join(exc.messages), messages.ERROR)
        else:
            self.message_user(
                request, gettext("A fresh bureau report was requested; it appears here when fetched.")
            )
        return HttpResponseRedirect(reverse("admin:cases_collectioncase_work", args=[case.pk]))


@admin.register(BureauInquiryAttempt)
class BureauInquiryAttemptAdmin(ReadOnlyAdmin):
    list_display = (
        "customer",
        "started_at",
        "outcome",
        "trigger",
        "http_status",
        "tries",
        "report",
        "detail",
    )
    list_filter = ("outcome", "trigger", "bureau", "started_at")
    list_select_related = ("customer", "report")
    search_fields = ("request_id", "customer__name")
    actions = ["refresh_now"]
    fields = (
        "bureau",
        "customer",
        "debt",
        "trigger",
        "period",
        "outcome",
        "http_status",
        "tries",
        "detail",
        "request_id",
        "started_at",
        "finished_at",
        "report",
        "requested_by",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return bureau_attempts_for(request.user)


@admin.register(BureauCircuit)
class BureauCircuitAdmin(SimpleHistoryAdmin):
    """The circuit's state for operators; not customer data. Read-only: the
    breaker moves by itself (a cool-down, then a probe)."""

    list_display = ("bureau", "state", "consecutive_failures", "opened_at", "last_failure")
    fields = ("bureau", "state", "consecutive_failures", "opened_at", "probe_started_at", "last_failure")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

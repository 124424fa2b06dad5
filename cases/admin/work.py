"""Screens for collection work: cases, assignment, contacts, promises, plans,
settlements and disputes (DESIGN.md: "My queue", "Supervision").

Imported by ``cases.admin`` (which Django's autodiscovery loads). The admin
stays thin: rows are listed through ``backoffice.access`` and every
business action calls a service with ``actor=request.user`` and a reason.
Nobody edits money or state fields directly here: promises, plans,
settlements, disputes and contact attempts are read-only rows, changed by
actions (and the case page, ``cases.admin.collector_screens``) that call the services.
Assignment rules and collector profiles are configuration: whoever holds
the model permissions (supervisors, administrators) edits them as ordinary
rows (history records who).
"""

from collections import Counter

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from backoffice.access import (
    assignment_rules_for,
    assignments_for,
    case_histories_for,
    cases_for,
    collector_profiles_for,
    contacts_for,
    debts_for,
    disputes_for,
    plan_instalments_for,
    plans_for,
    promises_for,
    settlements_for,
    teams_for,
)
from backoffice.admin import (
    EstimatedCountPaginator,
    ReadOnlyInlineMixin,
    ServiceOnlyAdmin,
    service_form_response,
)
from cases.admin import collector_screens
from cases.forms import AssignCasesForm, ReasonForm, ResolveDisputeForm, assignable_collectors
from cases.models import (
    Assignment,
    AssignmentRule,
    CollectionCase,
    CollectorProfile,
    ContactAttempt,
    Debt,
    Dispute,
    Hold,
    PaymentPlan,
    PlanInstalment,
    PromiseToPay,
    Settlement,
    default_bucket_labels,
)
from cases.services.assignment import (
    assign_cases,
    auto_assign,
    can_assign_any_case,
    worst_buckets,
)
from cases.services.disputes import resolve_dispute
from cases.services.plans import cancel_plan
from cases.services.promises import cancel_promise
from cases.services.settlements import decide_settlement

# How many "why unassigned" lines one auto-assignment message lists.
REASONS_SHOWN = 5


def case_page_link(case_id: int, label=None):
    url = reverse("admin:cases_collectioncase_work", args=[case_id])
    return format_html('<a href="{}">{}</a>', url, label or gettext("Open case page"))


def report_auto_assign(model_admin, request, result) -> None:
    """Counts, then the most common reasons cases stay unassigned."""
    model_admin.message_user(
        request,
        gettext("Auto-assignment placed %(assigned)d case(s); %(unassigned)d stay unassigned.")
        % {"assigned": result.assigned_count, "unassigned": result.unassigned_count},
        messages.SUCCESS if result.assigned_count else messages.WARNING,
    )
    for reason, count in Counter(result.unassigned.values()).most_common(REASONS_SHOWN):
        model_admin.message_user(
            request,
            gettext("%(count)d case(s): %(reason)s") % {"count": count, "reason": reason},
            messages.INFO,
        )


# --- cases ------------------------------------------------------------------------------


class CaseDebtInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = Debt
    fk_name = "case"
    fields = ("account_number", "creditor", "status", "bucket", "days_past_due", "principal_balance")
    show_change_link = True

    def get_queryset(self, request):
        return debts_for(request.user).select_related("creditor")


class CaseBucketFilter(admin.SimpleListFilter):
    """Cases with a still-collectible debt in the bucket (an ``EXISTS``, no join duplicates)."""

    title = _("bucket of debts")
    parameter_name = "bucket"

    def lookups(self, request, model_admin):
        return [(label, label) for label in default_bucket_labels()]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        debts = Debt.objects.filter(case=OuterRef("pk"), bucket=self.value(), status__in=Debt.ACTIVE_STATUSES)
        return queryset.filter(Exists(debts))


class HasHoldFilter(admin.SimpleListFilter):
    title = _("on hold")
    parameter_name = "on_hold"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No")), *[(h.value, h.label) for h in Hold]]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "yes":
            return queryset.exclude(holds=[])
        if value == "no":
            return queryset.filter(holds=[])
        if value in Hold.values:
            # JSON containment is not portable (SQLite); a quoted code is.
            return queryset.filter(holds__icontains=f'"{value}"')
        return queryset


class AssignedToFilter(admin.SimpleListFilter):
    title = _("assigned to")
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        choices = [("me", _("Me")), ("none", _("Nobody (unassigned)"))]
        return choices + [(str(u.pk), u.get_username()) for u in assignable_collectors()]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "me":
            return queryset.filter(assigned_to=request.user)
        if value == "none":
            return queryset.filter(assigned_to__isnull=True)
        if value and value.isdigit():
            return queryset.filter(assigned_to_id=int(value))
        return queryset


class CaseChangeList(ChangeList):
    """Adds each listed case's worst bucket, one query per page."""

    def get_results(self, request):
        super().get_results(request)
        buckets = worst_buckets([case.pk for case in self.result_list])
        for case in self.result_list:
            case.worst_bucket = buckets.get(case.pk, "")


@admin.register(CollectionCase)
class CollectionCaseAdmin(ServiceOnlyAdmin):
    list_display = (
        "__str__",
        "work_link",
        "customer",
        "stage",
        "assigned_to",
        "team",
        "priority",
        "next_action_on",
        "holds_display",
        "worst_bucket_display",
    )
    list_display_links = ("__str__",)
    list_filter = ("stage", "team", AssignedToFilter, CaseBucketFilter, HasHoldFilter)
    search_fields = ("customer__name", "debts__account_number")
    list_select_related = ("customer", "assigned_to", "team")
    inlines = [CaseDebtInline]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    actions = ["assign_selected", "auto_assign_selected"]
    readonly_fields = ("work_link",)

    def get_queryset(self, request):
        return cases_for(request.user)

    def get_changelist(self, request, **kwargs):
        return CaseChangeList

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("my-queue/", wrap(self.my_queue_view), name="cases_collectioncase_my_queue"),
            path("auto-assign/", wrap(self.auto_assign_view), name="cases_collectioncase_auto_assign"),
            path("<path:object_id>/work/", wrap(self.work_view), name="cases_collectioncase_work"),
            *super().get_urls(),
        ]

    # -- columns

    @admin.display(description=_("work"))
    def work_link(self, obj):
        return case_page_link(obj.pk, gettext("Case page"))

    @admin.display(description=_("holds"))
    def holds_display(self, obj):
        labels = dict(Hold.choices)
        return ", ".join(str(labels.get(h, h)) for h in obj.holds or []) or "—"

    @admin.display(description=_("worst bucket"))
    def worst_bucket_display(self, obj):
        return getattr(obj, "worst_bucket", "") or "—"

    # -- permissions

    def has_assign_permission(self, request):
        """Supervisors, administrators and team leads; ``assign_cases`` checks which cases."""
        return request.user.has_perm("cases.change_collectioncase")

    def has_auto_assign_permission(self, request):
        return can_assign_any_case(request.user)

    # -- pages

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_auto_assign": self.has_auto_assign_permission(request),
        }
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "case_page_url": self._work_url(object_id)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _work_url(self, object_id) -> str | None:
        try:
            return reverse("admin:cases_collectioncase_work", args=[int(object_id)])
        except (TypeError, ValueError):
            return None

    def _history_visible_or_404(self, request, object_id) -> None:
        """The case's own history pages follow ``case_histories_for``: agency
        staff read them only where the placement shares the lender's contact
        history (issue #15); a case they cannot read is a 404, as elsewhere."""
        try:
            pk = int(unquote(object_id))
        except (TypeError, ValueError):
            raise Http404 from None
        if not case_histories_for(request.user).filter(pk=pk).exists():
            raise Http404(gettext("No such case."))

    def history_view(self, request, object_id, extra_context=None):
        self._history_visible_or_404(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self._history_visible_or_404(request, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context)

    def my_queue_view(self, request):
        return collector_screens.my_queue_view(self, request)

    def work_view(self, request, object_id):
        return collector_screens.case_page_view(self, request, object_id)

    def auto_assign_view(self, request):
        """Run auto-assignment now: every unassigned open case, by the active rules."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_auto_assign_permission(request):
            raise PermissionDenied
        try:
            result = auto_assign(actor=request.user)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
        else:
            report_auto_assign(self, request, result)
        return HttpResponseRedirect(reverse("admin:cases_collectioncase_changelist"))

    # -- actions

    @admin.action(description=_("Assign / reassign…"), permissions=["assign"])
    def assign_selected(self, request, queryset):
        """Ask for the collector or team and the reason, then call ``assign_cases``.

        A refusal (``NotAllowed``, a bad collector/team pair) changes nothing
        and is shown as an error; the form comes back with bad input.
        """
        teams = teams_for(request.user)
        if "apply" in request.POST:
            form = AssignCasesForm(request.POST, teams=teams)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    result = assign_cases(
                        cases=queryset,
                        actor=request.user,
                        reason=data["reason"],
                        collector=data["collector"],
                        team=data["team"],
                    )
                except ValidationError as exc:  # NotAllowed (a Conflict) included
                    self.message_user(
                        request,
                        gettext("Nothing was assigned: %s") % " ".join(exc.messages),
                        messages.ERROR,
                    )
                    return None
                self.message_user(
                    request,
                    gettext("%(assigned)d case(s) assigned, %(unchanged)d unchanged, %(skipped)d skipped.")
                    % {"assigned": result.assigned, "unchanged": result.unchanged, "skipped": result.skipped},
                    messages.SUCCESS if result.assigned else messages.WARNING,
                )
                for line in result.messages:
                    self.message_user(request, line, messages.WARNING)
                return None
        else:
            form = AssignCasesForm(teams=teams)
        return service_form_response(
            self,
            request,
            queryset.select_related("customer", "assigned_to", "team"),
            form=form,
            action="assign_selected",
            title=gettext("Assign or reassign cases"),
            submit_label=gettext("Assign"),
            intro=gettext("Every change is recorded with you, the time and the reason."),
        )

    @admin.action(description=_("Run auto-assignment for selected"), permissions=["auto_assign"])
    def auto_assign_selected(self, request, queryset):
        try:
            result = auto_assign(actor=request.user, cases=queryset)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return None
        report_auto_assign(self, request, result)
        return None


# --- assignment -------------------------------------------------------------------------


@admin.register(Assignment)
class AssignmentAdmin(ServiceOnlyAdmin):
    list_display = (
        "assigned_at",
        "case",
        "collector",
        "team",
        "previous_collector",
        "assigned_by",
        "rule",
        "reason",
    )
    list_filter = ("team", "rule", "assigned_at")
    search_fields = ("case__customer__name", "reason")
    list_select_related = ("case__customer", "collector", "team", "previous_collector", "assigned_by", "rule")
    raw_id_fields = ("case",)
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def get_queryset(self, request):
        return assignments_for(request.user)


@admin.register(AssignmentRule)
class AssignmentRuleAdmin(SimpleHistoryAdmin):
    """Edited by supervisors and administrators (their model permissions)."""

    list_display = (
        "name",
        "order",
        "active",
        "team",
        "strategy",
        "stages",
        "buckets",
        "languages",
        "regions",
    )
    list_filter = ("active", "strategy", "team")
    list_editable = ("order", "active")
    search_fields = ("name",)
    list_select_related = ("team",)
    readonly_fields = ("last_assigned",)
    actions = ["run_auto_assignment"]
    fieldsets = (
        (None, {"fields": ("name", "order", "active", "team", "strategy")}),
        (_("Which cases"), {"fields": ("stages", "buckets", "languages", "regions")}),
        (
            _("Which collectors"),
            {"fields": ("match_collector_language", "match_collector_region", "last_assigned")},
        ),
    )

    def get_queryset(self, request):
        return assignment_rules_for(request.user)

    def has_auto_assign_permission(self, request):
        return can_assign_any_case(request.user)

    @admin.action(description=_("Run auto-assignment now (all active rules)"), permissions=["auto_assign"])
    def run_auto_assignment(self, request, queryset):
        """Rules decide together (the first match wins), so this runs them all."""
        try:
            result = auto_assign(actor=request.user)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return None
        report_auto_assign(self, request, result)
        return None


@admin.register(CollectorProfile)
class CollectorProfileAdmin(SimpleHistoryAdmin):
    list_display = ("user", "capacity", "open_cases", "languages", "regions", "active")
    list_filter = ("active",)
    search_fields = ("user__username", "user__first_name", "user__last_name")
    list_select_related = ("user",)
    raw_id_fields = ("user",)

    def get_queryset(self, request):
        open_cases = Count(
            "user__assigned_cases", filter=~Q(user__assigned_cases__stage=CollectionCase.Stage.CLOSED)
        )
        return collector_profiles_for(request.user).annotate(open_cases_count=open_cases)

    @admin.display(description=_("open cases"), ordering="open_cases_count")
    def open_cases(self, obj):
        return obj.open_cases_count


# --- contacts, promises, plans, settlements, disputes ----------------------------------------


class CaseLinkMixin:
    @admin.display(description=_("case"))
    def case_link(self, obj):
        return case_page_link(obj.case_id, gettext("Case %(id)s") % {"id": obj.case_id})


@admin.register(ContactAttempt)
class ContactAttemptAdmin(CaseLinkMixin, ServiceOnlyAdmin):
    """Read-only: attempts are logged on the case page through ``log_contact``."""

    list_display = ("started_at", "case_link", "channel", "direction", "outcome", "created_by", "rules")
    list_filter = ("channel", "outcome", "direction", "started_at")
    search_fields = ("case__customer__name", "note")
    list_select_related = ("created_by",)
    raw_id_fields = ("case", "debt", "contact_point", "third_party", "created_by")
    date_hierarchy = "started_at"
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def get_queryset(self, request):
        return contacts_for(request.user)


class ReasonActionMixin:
    """An action that asks for a reason and calls a service per selected row."""

    def _reason_action(self, request, queryset, *, action, title, submit_label, call, done_message):
        if "apply" in request.POST:
            form = ReasonForm(request.POST)
            if form.is_valid():
                done, failed = 0, []
                for obj in queryset.order_by("pk"):
                    try:
                        call(obj, form.cleaned_data["reason"])
                        done += 1
                    except ValidationError as exc:
                        failed.append(f"{obj}: {' '.join(exc.messages)}")
                if done:
                    self.message_user(request, done_message % {"count": done}, messages.SUCCESS)
                for line in failed:
                    self.message_user(request, line, messages.ERROR)
                return None
        else:
            form = ReasonForm()
        return service_form_response(
            self, request, queryset, form=form, action=action, title=title, submit_label=submit_label
        )


@admin.register(PromiseToPay)
class PromiseToPayAdmin(CaseLinkMixin, ReasonActionMixin, ServiceOnlyAdmin):
    list_display = (
        "due_on",
        "case_link",
        "debt",
        "amount",
        "paid_amount",
        "status",
        "created_by",
        "created_at",
    )
    list_filter = ("status", "due_on")
    search_fields = ("case__customer__name", "debt__account_number")
    list_select_related = ("debt__creditor", "created_by")
    raw_id_fields = ("case", "debt", "contact", "created_by")
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    actions = ["cancel_selected"]

    def get_queryset(self, request):
        return promises_for(request.user)

    def has_cancel_permission(self, request):
        return request.user.has_perm("cases.change_promisetopay")

    @admin.action(description=_("Cancel…"), permissions=["cancel"])
    def cancel_selected(self, request, queryset):
        return self._reason_action(
            request,
            queryset,
            action="cancel_selected",
            title=gettext("Cancel promises"),
            submit_label=gettext("Cancel promises"),
            call=lambda obj, reason: cancel_promise(promise=obj, actor=request.user, reason=reason),
            done_message=gettext("%(count)d promise(s) cancelled."),
        )


class PlanInstalmentInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = PlanInstalment
    fields = ("number", "due_on", "amount", "paid_amount", "status")

    def get_queryset(self, request):
        return plan_instalments_for(request.user)


@admin.register(PaymentPlan)
class PaymentPlanAdmin(CaseLinkMixin, ReasonActionMixin, ServiceOnlyAdmin):
    list_display = ("id", "case_link", "debt", "total", "status", "missed_count", "created_by", "created_at")
    list_filter = ("status",)
    search_fields = ("case__customer__name", "debt__account_number")
    list_select_related = ("debt__creditor", "created_by")
    raw_id_fields = ("case", "debt", "created_by")
    inlines = [PlanInstalmentInline]
    actions = ["cancel_selected"]

    def get_queryset(self, request):
        return plans_for(request.user)

    def has_cancel_permission(self, request):
        return request.user.has_perm("cases.change_paymentplan")

    @admin.action(description=_("Cancel…"), permissions=["cancel"])
    def cancel_selected(self, request, queryset):
        return self._reason_action(
            request,
            queryset,
            action="cancel_selected",
            title=gettext("Cancel payment plans"),
            submit_label=gettext("Cancel plans"),
            call=lambda obj, reason: cancel_plan(plan=obj, actor=request.user, reason=reason),
            done_message=gettext("%(count)d plan(s) cancelled."),
        )


@admin.register(Settlement)
class SettlementAdmin(CaseLinkMixin, ReasonActionMixin, ServiceOnlyAdmin):
    list_display = (
        "id",
        "case_link",
        "debt",
        "discount_percent",
        "amount",
        "valid_until",
        "status",
        "requested_by",
        "approved_by",
        "decided_at",
    )
    list_filter = ("status", "valid_until")
    search_fields = ("case__customer__name", "debt__account_number")
    list_select_related = ("debt__creditor", "requested_by", "approved_by")
    raw_id_fields = ("case", "debt", "requested_by", "approved_by")
    actions = ["approve_selected", "reject_selected"]

    def get_queryset(self, request):
        return settlements_for(request.user)

    def has_decide_permission(self, request):
        """Team leads, supervisors, administrators; ``decide_settlement``
        checks each offer against the decider's approval limit."""
        return request.user.has_perm("cases.change_settlement")

    def _decide(self, request, queryset, *, approve: bool):
        return self._reason_action(
            request,
            queryset,
            action="approve_selected" if approve else "reject_selected",
            title=gettext("Approve settlements") if approve else gettext("Reject settlements"),
            submit_label=gettext("Approve") if approve else gettext("Reject"),
            call=lambda obj, reason: decide_settlement(
                settlement=obj, approve=approve, actor=request.user, reason=reason
            ),
            done_message=(
                gettext("%(count)d settlement(s) approved.")
                if approve
                else gettext("%(count)d settlement(s) rejected.")
            ),
        )

    @admin.action(description=_("Approve…"), permissions=["decide"])
    def approve_selected(self, request, queryset):
        return self._decide(request, queryset, approve=True)

    @admin.action(description=_("Reject…"), permissions=["decide"])
    def reject_selected(self, request, queryset):
        return self._decide(request, queryset, approve=False)


@admin.register(Dispute)
class DisputeAdmin(CaseLinkMixin, ServiceOnlyAdmin):
    list_display = ("id", "case_link", "debt", "raised_via", "opened_on", "due_on", "status", "outcome")
    list_filter = ("status", "raised_via", "outcome", "due_on")
    search_fields = ("case__customer__name", "reason")
    list_select_related = ("debt__creditor",)
    raw_id_fields = ("case", "debt", "created_by")
    actions = ["resolve_selected"]

    def get_queryset(self, request):
        return disputes_for(request.user)

    def has_resolve_permission(self, request):
        return request.user.has_perm("cases.change_dispute")

    @admin.action(description=_("Resolve…"), permissions=["resolve"])
    def resolve_selected(self, request, queryset):
        """Ask for the outcome and the note, then call ``resolve_dispute`` per dispute."""
        if "apply" in request.POST:
            form = ResolveDisputeForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                done, failed = 0, []
                for dispute in queryset.select_related("case__customer").order_by("pk"):
                    try:
                        resolve_dispute(
                            dispute=dispute,
                            outcome=data["outcome"],
                            resolved_on=data["resolved_on"],
                            actor=request.user,
                            reason=data["reason"],
                            consumer_disagrees=data["consumer_disagrees"],
                            verification_sent_on=data["verification_sent_on"],
                        )
                        done += 1
                    except ValidationError as exc:
                        failed.append(f"{dispute}: {' '.join(exc.messages)}")
                if done:
                    self.message_user(
                        request, gettext("%(count)d dispute(s) resolved.") % {"count": done}, messages.SUCCESS
                    )
                for line in failed:
                    self.message_user(request, line, messages.ERROR)
                return None
        else:
            form = ResolveDisputeForm(initial={"resolved_on": timezone.localdate()})
        return service_form_response(
            self,
            request,
            queryset,
            form=form,
            action="resolve_selected",
            title=gettext("Resolve disputes"),
            submit_label=gettext("Resolve"),
        )

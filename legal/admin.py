"""Legal screens in the admin (issue: Legal; RULES.md §7).

- Matters by stage: the changelist, filtered by stage, court, law firm and
  legal staff; rows come from ``legal.access.matters_for``.
- "Upcoming": hearings and open deadlines this week and in the next 30 days
  (overdue deadlines first, in red), and the user's calendar feed URL with
  a button that replaces it (``legal.services.rotate_calendar_token``).
- The matter page: a timeline of transitions, filings, hearings, the
  judgment, costs, enforcement and payments; and the transition form (also
  an action on the changelist). Stages change only through
  ``legal.services.transition_matter``.
- Deadlines list: overdue ones in red.
- Costs and recoveries move money, so they are added through the services
  (API ``legal/costs/``) and are read-only here.
"""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from backoffice.admin import ReadOnlyInlineMixin, service_form_response
from legal import services
from legal.access import (
    deadlines_for,
    enforcement_actions_for,
    filings_for,
    hearings_for,
    judgments_for,
    legal_costs_for,
    matters_for,
    notifications_for,
)
from legal.calendar import token_for
from legal.models import (
    Attorney,
    Court,
    Deadline,
    EnforcementAction,
    Filing,
    Hearing,
    Judgment,
    LawFirm,
    LegalCost,
    LegalMatter,
    LegalNotification,
    Recovery,
    default_reminders,
)
from legal.selectors import matter_timeline, open_deadlines, upcoming_hearings

# Overdue dates are red through the ``overdue`` class in this style sheet (no
# style attributes: the Content-Security-Policy refuses inline styles).
LEGAL_CSS = {"all": ("legal/legal.css",)}


def due_display(deadline: Deadline, today=None):
    today = today or timezone.localdate()
    if deadline.is_overdue(today):
        return format_html('<span class="overdue">{} ({})</span>', deadline.due_on, _("overdue"))
    return deadline.due_on


class ReadOnlyAdmin(SimpleHistoryAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- reference data ------------------------------------------------------------------------


@admin.register(Court)
class CourtAdmin(SimpleHistoryAdmin):
    list_display = ("name", "city")
    search_fields = ("name", "city")


class AttorneyInline(admin.TabularInline):
    model = Attorney
    extra = 0
    fields = ("name", "license_number", "phone", "email")


@admin.register(LawFirm)
class LawFirmAdmin(SimpleHistoryAdmin):
    list_display = ("name", "phone", "email")
    search_fields = ("name",)
    inlines = [AttorneyInline]


# --- matters -------------------------------------------------------------------------------


class TransitionForm(forms.Form):
    stage = forms.ChoiceField(label=_("to stage"), choices=LegalMatter.Stage.choices)
    on = forms.DateField(label=_("date"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("reason"), max_length=100)
    document = forms.FileField(label=_("document"), required=False)
    outcome = forms.ChoiceField(
        label=_("outcome (closing)"), choices=[("", "—"), *LegalMatter.Outcome.choices], required=False
    )
    amount = forms.DecimalField(label=_("judgment amount"), max_digits=18, decimal_places=2, required=False)
    interest = forms.DecimalField(
        label=_("interest awarded"), max_digits=18, decimal_places=2, required=False
    )
    costs_awarded = forms.DecimalField(
        label=_("costs awarded"), max_digits=18, decimal_places=2, required=False
    )
    served_on = forms.DateField(
        label=_("judgment served on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    effective_on = forms.DateField(
        label=_("judgment effective on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


def _apply_transition_form(request, matter, form) -> None:
    data = form.cleaned_data
    services.transition_matter(
        matter=matter,
        stage=data["stage"],
        on=data["on"],
        reason=data["reason"],
        document=data.get("document"),
        outcome=data.get("outcome") or "",
        amount=data.get("amount"),
        interest=data.get("interest"),
        costs_awarded=data.get("costs_awarded"),
        served_on=data.get("served_on"),
        effective_on=data.get("effective_on"),
        actor=request.user,
    )


class FilingInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = Filing
    fields = ("kind", "filed_on", "court_reference", "document")


class HearingInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = Hearing
    fields = ("starts_at", "court_room", "judge", "result")


class DeadlineInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = Deadline
    fields = ("kind", "title", "due", "done", "reminders")

    @admin.display(description=_("due on"))
    def due(self, obj):
        return due_display(obj)


class LegalCostInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = LegalCost
    fields = ("kind", "debt", "amount", "incurred_on", "ledger_entry")


@admin.register(LegalMatter)
class LegalMatterAdmin(SimpleHistoryAdmin):
    list_display = (
        "id",
        "case",
        "case_number",
        "court",
        "stage",
        "claim_amount",
        "assigned_to",
        "referred_on",
        "page_link",
    )
    list_filter = ("stage", "outcome", "court", "law_firm", "assigned_to")
    list_select_related = ("case__customer", "court", "assigned_to")
    search_fields = ("case_number", "case__customer__name", "=id")
    date_hierarchy = "referred_on"
    show_full_result_count = False
    fields = (
        "case",
        "debts",
        "court",
        "case_number",
        "law_firm",
        "attorney",
        "claim_amount",
        "currency",
        "stage",
        "outcome",
        "assigned_to",
        "referred_on",
        "stage_changed_on",
        "closed_on",
    )
    readonly_fields = (
        "case",
        "debts",
        "claim_amount",
        "currency",
        "stage",
        "outcome",
        "referred_on",
        "stage_changed_on",
        "closed_on",
    )
    inlines = [FilingInline, HearingInline, DeadlineInline, LegalCostInline]
    actions = ["transition_action"]
    change_list_template = "admin/legal/legalmatter/change_list.html"

    class Media:
        css = LEGAL_CSS

    def get_queryset(self, request):
        return matters_for(request.user)

    def has_add_permission(self, request):
        # A matter opens by referral (``refer_to_legal``: the checks of RULES §7).
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("upcoming/", wrap(self.upcoming_view), name="legal_legalmatter_upcoming"),
            path(
                "upcoming/new-calendar-link/",
                wrap(self.new_calendar_link_view),
                name="legal_legalmatter_new_calendar_link",
            ),
            path("<int:object_id>/page/", wrap(self.matter_page_view), name="legal_legalmatter_page"),
            path(
                "<int:object_id>/transition/", wrap(self.transition_view), name="legal_legalmatter_transition"
            ),
            *super().get_urls(),
        ]

    @admin.display(description=_("matter page"))
    def page_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:legal_legalmatter_page", args=[obj.pk]), _("Timeline")
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "today": timezone.localdate()}
        return super().change_view(request, object_id, form_url, extra_context)

    # -- pages

    def _matter_or_404(self, request, object_id) -> LegalMatter:
        return get_object_or_404(
            self.get_queryset(request).select_related("case__customer", "court"), pk=object_id
        )

    def upcoming_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = timezone.localdate()
        matters = self.get_queryset(request).exclude(stage=LegalMatter.Stage.CLOSED)
        week_end = today + timedelta(days=6 - today.weekday())
        deadlines = list(open_deadlines(matters, until=today + timedelta(days=30)))
        hearings = list(upcoming_hearings(matters, today=today, days=30))
        local = timezone.localtime
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Upcoming hearings and deadlines"),
            "today": today,
            "week_end": week_end,
            "overdue": [d for d in deadlines if d.due_on < today],
            "deadlines_week": [d for d in deadlines if today <= d.due_on <= week_end],
            "deadlines_month": [d for d in deadlines if d.due_on > week_end],
            "hearings_week": [h for h in hearings if local(h.starts_at).date() <= week_end],
            "hearings_month": [h for h in hearings if local(h.starts_at).date() > week_end],
            "feed_url": request.build_absolute_uri(f"/legal/calendar/{token_for(request.user).token}.ics"),
        }
        return TemplateResponse(request, "admin/legal/legalmatter/upcoming.html", context)

    def new_calendar_link_view(self, request):
        """POST only: replace the user's own feed token; the old URL stops working."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_view_permission(request):
            raise PermissionDenied
        services.rotate_calendar_token(
            user=request.user, actor=request.user, reason="calendar link replaced by its owner"
        )
        self.message_user(
            request,
            gettext("Your calendar feed has a new link; the old one no longer works."),
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:legal_legalmatter_upcoming"))

    def matter_page_view(self, request, object_id):
        matter = self._matter_or_404(request, object_id)
        if not self.has_view_permission(request, matter):
            raise PermissionDenied
        today = timezone.localdate()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Matter %(id)s") % {"id": matter.pk},
            "matter": matter,
            "timeline": matter_timeline(matter),
            "deadlines": [(d, d.is_overdue(today)) for d in matter.deadlines.order_by("due_on")],
            "allowed_next": services.allowed_next(matter.stage),
            "can_transition": self.has_change_permission(request, matter) and not matter.is_closed,
        }
        return TemplateResponse(request, "admin/legal/legalmatter/matter_page.html", context)

    def transition_view(self, request, object_id):
        matter = self._matter_or_404(request, object_id)
        if not self.has_change_permission(request, matter):
            raise PermissionDenied
        allowed = services.allowed_next(matter.stage)
        if request.method == "POST":
            form = TransitionForm(request.POST, request.FILES)
            if form.is_valid():
                try:
                    _apply_transition_form(request, matter, form)
                except ValidationError as exc:
                    for message in exc.messages:
                        form.add_error(None, message)
                else:
                    self.message_user(
                        request, gettext("Matter moved to %(stage)s.") % {"stage": form.cleaned_data["stage"]}
                    )
                    return HttpResponseRedirect(reverse("admin:legal_legalmatter_page", args=[matter.pk]))
        else:
            form = TransitionForm(
                initial={"on": timezone.localdate(), "stage": allowed[0] if allowed else ""}
            )
        form.fields["stage"].choices = [(s, LegalMatter.Stage(s).label) for s in allowed] or [("", "—")]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Move matter %(id)s (now %(stage)s)") % {"id": matter.pk, "stage": matter.stage},
            "matter": matter,
            "form": form,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/legal/legalmatter/transition.html", context)

    # -- the action

    @admin.action(description=_("Move selected matters to another stage"), permissions=["change"])
    def transition_action(self, request, queryset):
        if "apply" in request.POST:
            form = TransitionForm(request.POST, request.FILES)
            if form.is_valid():
                moved = 0
                for matter in queryset:
                    try:
                        _apply_transition_form(request, matter, form)
                        moved += 1
                    except ValidationError as exc:
                        self.message_user(request, f"{matter}: {' '.join(exc.messages)}", messages.ERROR)
                if moved:
                    self.message_user(
                        request, gettext("%(n)d matter(s) moved.") % {"n": moved}, messages.SUCCESS
                    )
                return None
        else:
            form = TransitionForm(initial={"on": timezone.localdate()})
        return service_form_response(
            self,
            request,
            queryset,
            form=form,
            action="transition_action",
            title=gettext("Move matters to another stage"),
            submit_label=gettext("Move"),
            intro=gettext(
                "Only moves allowed by the stage machine (RULES §7) are made; others are reported."
            ),
        )


# --- rows of a matter ----------------------------------------------------------------------


@admin.register(Filing)
class FilingAdmin(SimpleHistoryAdmin):
    list_display = ("matter", "kind", "filed_on", "court_reference", "document")
    list_filter = ("kind",)
    list_select_related = ("matter",)
    search_fields = ("court_reference", "matter__case_number")
    raw_id_fields = ("matter",)
    exclude = ("created_by",)

    def get_queryset(self, request):
        return filings_for(request.user)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Hearing)
class HearingAdmin(SimpleHistoryAdmin):
    list_display = ("starts_at", "matter", "court_room", "judge", "result")
    list_select_related = ("matter",)
    date_hierarchy = "starts_at"
    search_fields = ("matter__case_number", "judge")
    raw_id_fields = ("matter",)

    def get_queryset(self, request):
        return hearings_for(request.user)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # The hearing's own deadline (RULES §7) follows the hearing date.
        services.sync_hearing_deadline(obj, actor=request.user, reason="hearing saved in admin")


class OverdueFilter(admin.SimpleListFilter):
    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("Overdue")), ("no", _("Not overdue"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "yes":
            return queryset.filter(done=False, due_on__lt=today)
        if self.value() == "no":
            return queryset.exclude(done=False, due_on__lt=today)
        return queryset


@admin.register(Deadline)
class DeadlineAdmin(SimpleHistoryAdmin):
    list_display = ("due", "kind", "title", "matter", "computed", "done")
    list_filter = (OverdueFilter, "done", "kind", "computed")
    list_select_related = ("matter",)
    search_fields = ("title", "matter__case_number")
    raw_id_fields = ("matter", "hearing")
    readonly_fields = ("computed", "source", "reminded_on", "done_on")

    class Media:
        css = LEGAL_CSS

    def get_queryset(self, request):
        return deadlines_for(request.user)

    def save_model(self, request, obj, form, change):
        # A deadline moved by hand is no longer the event's; its reminders follow it.
        if change and "due_on" in form.changed_data:
            obj.computed, obj.source = False, ""
            if "reminders" not in form.changed_data:
                obj.reminders = default_reminders(obj.due_on)
        if not change and not obj.reminders:
            obj.reminders = default_reminders(obj.due_on)
        super().save_model(request, obj, form, change)

    @admin.display(description=_("due on"), ordering="due_on")
    def due(self, obj):
        return due_display(obj)


@admin.register(Judgment)
class JudgmentAdmin(ReadOnlyAdmin):
    list_display = ("matter", "amount", "judged_on", "served_on", "effective_on")
    list_select_related = ("matter",)

    def get_queryset(self, request):
        return judgments_for(request.user)


class RecoveryInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = Recovery
    fields = ("payment",)


@admin.register(EnforcementAction)
class EnforcementActionAdmin(ReadOnlyAdmin):
    list_display = ("matter", "kind", "applied_on", "court_reference")
    list_filter = ("kind",)
    list_select_related = ("matter",)
    inlines = [RecoveryInline]

    def get_queryset(self, request):
        return enforcement_actions_for(request.user)


@admin.register(LegalCost)
class LegalCostAdmin(ReadOnlyAdmin):
    list_display = ("incurred_on", "kind", "amount", "debt", "matter", "ledger_entry")
    list_filter = ("kind",)
    list_select_related = ("debt__creditor", "matter", "ledger_entry")

    def get_queryset(self, request):
        return legal_costs_for(request.user)


@admin.register(LegalNotification)
class LegalNotificationAdmin(admin.ModelAdmin):
    list_display = ("sent_for", "message", "deadline_due", "emailed", "read")
    list_filter = ("read",)
    list_select_related = ("deadline",)
    actions = ["mark_read"]
    readonly_fields = ("user", "deadline", "sent_for", "message", "emailed", "created_at")

    class Media:
        css = LEGAL_CSS

    def get_queryset(self, request):
        return notifications_for(request.user)

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("deadline"))
    def deadline_due(self, obj):
        return due_display(obj.deadline)

    @admin.action(description=_("Mark as read"))
    def mark_read(self, request, queryset):
        for notification in queryset.filter(read=False):
            notification.read = True
            notification.save(update_fields=["read"])

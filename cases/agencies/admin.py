"""Screens for outside agencies (委外).

- Agencies: an ordinary configuration screen (supervisors, administrators)
  with the commission rates by bucket and the agency's staff inline; each
  agency has its monthly commission statement (``<id>/commission/``, with a
  CSV download) — agency staff open only their own.
- Placements: read-only rows; placed from the case list (action "Place with
  an agency…") or by rule (``place-by-rule/``), recalled by an action with a
  reason; "Agency performance" (``performance/``) compares the agencies.
- The case list's action is added here, not in ``cases.admin.work``, so the
  agency feature stays in its own package.

Every business write calls ``cases.agencies.services``; rows come from
``backoffice.access``.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from backoffice import csvexport
from backoffice.access import (
    agencies_for,
    agency_placements_for,
    may_compare_agencies,
    may_place_with_agencies,
    products_for,
)
from backoffice.admin import EstimatedCountPaginator, service_form_response
from backoffice.models import AccessRecord
from backoffice.services import record_download
from cases.agencies import selectors, services
from cases.agencies.forms import MonthForm, PeriodForm, PlaceByRuleForm, PlaceForm, RecallForm
from cases.agencies.models import Agency, AgencyCommissionRate, AgencyMember, AgencyPlacement
from cases.models import CollectionCase


def _errors(exc: ValidationError) -> str:
    return " ".join(exc.messages)


class CommissionRateInline(admin.TabularInline):
    model = AgencyCommissionRate
    extra = 0
    fields = ("bucket", "rate_percent")


class MemberInline(admin.TabularInline):
    model = AgencyMember
    extra = 0
    fields = ("user",)
    raw_id_fields = ("user",)


@admin.register(Agency)
class AgencyAdmin(SimpleHistoryAdmin):
    list_display = ("name", "licence_number", "contact_name", "phone", "active", "statement_link")
    list_filter = ("active",)
    search_fields = ("name", "licence_number")
    inlines = [CommissionRateInline, MemberInline]

    def get_queryset(self, request):
        return agencies_for(request.user)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("performance/", wrap(self.performance_view), name="agencies_agency_performance"),
            path(
                "<path:object_id>/commission/", wrap(self.commission_view), name="agencies_agency_commission"
            ),
            *super().get_urls(),
        ]

    @admin.display(description=_("commission"))
    def statement_link(self, obj):
        from django.utils.html import format_html

        url = reverse("admin:agencies_agency_commission", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Monthly statement"))

    def changelist_view(self, request, extra_context=None):
        extra = {"performance_url": reverse("admin:agencies_agency_performance")}
        if not may_compare_agencies(request.user):
            extra = {}
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    def commission_view(self, request, object_id):
        """The monthly commission statement of one agency (``?month=YYYY-MM``,
        ``&format=csv`` downloads it)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            agency = self.get_queryset(request).get(pk=int(object_id))
        except (ValueError, Agency.DoesNotExist):
            raise Http404(gettext("No such agency.")) from None
        today = timezone.localdate()
        form = MonthForm(request.GET or {"month": today.strftime("%Y-%m")})
        statement = None
        if form.is_valid():
            statement = selectors.commission_statement(agency=agency, month=form.cleaned_data["month"])
            if request.GET.get("format") == "csv":
                response = HttpResponse(content_type="text/csv; charset=utf-8")
                name = f"commission-{agency.pk}-{statement.first_day:%Y-%m}.csv"
                response["Content-Disposition"] = f'attachment; filename="{name}"'
                rows = selectors.statement_rows(statement)
                writer = csvexport.writer(response)
                writer.writerows(rows)
                # Account numbers and payment references of placed cases: recorded
                # (rows: the statement's lines, without the header and total).
                record_download(
                    user=request.user,
                    action=AccessRecord.Action.EXPORT_CSV,
                    obj=agency,
                    file_name=name,
                    rows=len(statement.lines),
                )
                return response
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Commission statement: %(agency)s") % {"agency": agency},
            "agency": agency,
            "form": form,
            "statement": statement,
            "month_value": request.GET.get("month") or today.strftime("%Y-%m"),
        }
        return TemplateResponse(request, "admin/agencies/commission.html", context)

    def performance_view(self, request):
        """Every agency side by side for a period (supervision only)."""
        if not may_compare_agencies(request.user):
            raise PermissionDenied
        today = timezone.localdate()
        form = PeriodForm(request.GET or {"start": today.replace(day=1), "end": today})
        rows = None
        if form.is_valid():
            rows = selectors.agency_performance(
                start=form.cleaned_data["start"], end=form.cleaned_data["end"]
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Agency performance"),
            "form": form,
            "rows": rows,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/agencies/performance.html", context)


@admin.register(AgencyPlacement)
class AgencyPlacementAdmin(SimpleHistoryAdmin):
    list_display = (
        "id",
        "case",
        "agency",
        "start_on",
        "end_on",
        "status",
        "bucket",
        "balance_at_placement",
        "commission_rate",
        "closed_on",
        "recall_reason",
    )
    list_filter = ("status", "agency", "recall_reason", "bucket")
    search_fields = ("case__customer__name", "agency__name")
    list_select_related = ("case__customer", "agency")
    raw_id_fields = ("case",)
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    actions = ["recall_selected"]

    def get_queryset(self, request):
        return agency_placements_for(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_recall_permission(self, request):
        return may_place_with_agencies(request.user) and request.user.has_perm(
            "agencies.change_agencyplacement"
        )

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "place-by-rule/", wrap(self.place_by_rule_view), name="agencies_agencyplacement_place_by_rule"
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra = {}
        if may_place_with_agencies(request.user):
            extra["place_by_rule_url"] = reverse("admin:agencies_agencyplacement_place_by_rule")
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    @admin.action(description=_("Recall selected placements…"), permissions=["recall"])
    def recall_selected(self, request, queryset):
        if "apply" in request.POST:
            form = RecallForm(request.POST)
            if form.is_valid():
                done, failed = 0, []
                for placement in queryset.order_by("id"):
                    try:
                        services.recall_placement(
                            placement=placement,
                            on=form.cleaned_data["on"],
                            actor=request.user,
                            reason=form.cleaned_data["reason"],
                        )
                        done += 1
                    except ValidationError as exc:
                        failed.append(f"{placement}: {_errors(exc)}")
                if done:
                    self.message_user(request, gettext("%d placement(s) recalled.") % done, messages.SUCCESS)
                for line in failed:
                    self.message_user(request, line, messages.ERROR)
                return None
        else:
            form = RecallForm(initial={"on": timezone.localdate()})
        return service_form_response(
            self,
            request,
            queryset.select_related("agency", "case__customer"),
            form=form,
            action="recall_selected",
            title=gettext("Recall placements"),
            submit_label=gettext("Recall"),
            intro=gettext(
                "The agency stops seeing these cases at once; payments after the day given earn it nothing."
            ),
        )

    def place_by_rule_view(self, request):
        """Place every eligible case matching a rule (bucket, balance band,
        region, product) with an agency."""
        if not may_place_with_agencies(request.user):
            raise PermissionDenied
        agencies = agencies_for(request.user)
        products = products_for(request.user)
        if request.method == "POST":
            form = PlaceByRuleForm(request.POST, agencies=agencies, products=products)
            if form.is_valid():
                data = form.cleaned_data
                criteria = services.PlacementCriteria(
                    buckets=data["buckets"],
                    min_balance=data["min_balance"],
                    max_balance=data["max_balance"],
                    regions=data["regions"],
                    product_ids=[p.pk for p in data["products"]],
                )
                try:
                    placed = services.place_by_rule(
                        criteria=criteria,
                        agency=data["agency"],
                        start_on=data["start_on"],
                        end_on=data["end_on"],
                        instructions=data["instructions"],
                        share_contact_history=data["share_contact_history"],
                        actor=request.user,
                        reason=data["reason"],
                        limit=data["limit"],
                    )
                except ValidationError as exc:
                    form.add_error(None, _errors(exc))
                else:
                    self.message_user(
                        request,
                        gettext("%(count)d case(s) placed with %(agency)s.")
                        % {"count": len(placed), "agency": data["agency"]},
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(reverse("admin:agencies_agencyplacement_changelist"))
        else:
            form = PlaceByRuleForm(agencies=agencies, products=products)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Place cases with an agency by rule"),
            "form": form,
            "submit_label": gettext("Place"),
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/agencies/place_by_rule.html", context)


# --- the case list's action ----------------------------------------------------------------


@admin.action(description=_("Place with an agency…"), permissions=["place_with_agency"])
def place_with_agency_action(modeladmin, request, queryset):
    """Ask for the agency, the period and the reason, then call
    ``place_with_agency`` for the selection (all or nothing)."""
    agencies = agencies_for(request.user)
    if "apply" in request.POST:
        form = PlaceForm(request.POST, agencies=agencies)
        if form.is_valid():
            data = form.cleaned_data
            try:
                placed = services.place_with_agency(
                    cases=queryset,
                    agency=data["agency"],
                    start_on=data["start_on"],
                    end_on=data["end_on"],
                    instructions=data["instructions"],
                    share_contact_history=data["share_contact_history"],
                    actor=request.user,
                    reason=data["reason"],
                )
            except ValidationError as exc:
                modeladmin.message_user(request, _errors(exc), messages.ERROR)
                return None
            modeladmin.message_user(
                request,
                gettext("%(count)d case(s) placed with %(agency)s.")
                % {"count": len(placed), "agency": data["agency"]},
                messages.SUCCESS,
            )
            return None
    else:
        today = timezone.localdate()
        form = PlaceForm(agencies=agencies, initial={"start_on": today})
    return service_form_response(
        modeladmin,
        request,
        queryset.select_related("customer"),
        form=form,
        action="place_with_agency_action",
        title=gettext("Place cases with an agency"),
        submit_label=gettext("Place"),
        intro=gettext("A case is placed with one agency at a time; every placement is recorded."),
    )


def _may_place(self, request) -> bool:
    return may_place_with_agencies(request.user)


# The cases app registers the case admin first (INSTALLED_APPS order); this app
# adds its action to it without importing the cases app's screens.
CaseAdmin = type(admin.site.get_model_admin(CollectionCase))
CaseAdmin.has_place_with_agency_permission = _may_place
CaseAdmin.actions = [*CaseAdmin.actions, place_with_agency_action]

"""The supervisors' KPI dashboard (RULES.md §8; issue 7, "KPI dashboard").

Three admin screens under ``/admin/dashboard/``: the dashboard (headline
rates, roll-rate matrix, collections per day, portfolio by bucket and
stage, with charts), the collector leaderboard and one collector's page.
They are for Supervisors, Team leads and Administrators (and superusers);
anyone else gets 403. Numbers come from ``backoffice.kpis`` over querysets
restricted by ``backoffice.access``, so a team lead sees their teams'
numbers and nothing else. Charts are SVG drawn on the server
(``backoffice.charts``).

The root urlconf mounts ``dashboard_urls()`` before the admin site:
``path("admin/dashboard/", include(dashboard_urls()))``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backoffice import access, charts, kpis
from backoffice.roles import ADMINISTRATOR, COLLECTOR, SUPERVISOR, TEAM_LEAD
from cases.models import CollectionCase, Product, Team

DASHBOARD_ROLES = frozenset({SUPERVISOR, TEAM_LEAD, ADMINISTRATOR})
# A period longer than this is refused: a chart bar per day stays readable
# and the per-day query stays small.
MAX_PERIOD_DAYS = 366


def can_view_dashboard(user) -> bool:
    """Superusers and members of Supervisor, Team lead or Administrator."""
    if not user or not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or bool(access.roles_of(user) & DASHBOARD_ROLES)


def _require_dashboard(request) -> None:
    if not can_view_dashboard(request.user):
        raise PermissionDenied


def sees_every_case(user) -> bool:
    return user.is_superuser or bool(access.roles_of(user) & access.SEES_EVERY_CASE)


def visible_collectors(user) -> QuerySet:
    """People whose numbers ``user`` may see: everyone for supervisors and
    administrators; for a team lead, the members of the teams they lead and
    themselves."""
    users = get_user_model()._default_manager.all()
    if sees_every_case(user):
        return users
    members = Team.members.through.objects.filter(team__lead=user).values("user_id")
    return users.filter(Q(pk__in=members) | Q(pk=user.pk))


def visible_teams(user) -> QuerySet:
    if sees_every_case(user):
        return access.teams_for(user)
    return Team.objects.filter(lead=user)


# --------------------------------------------------------------------------
# Filters


def default_period(today: date) -> kpis.Period:
    """This month so far."""
    return kpis.Period(today.replace(day=1), today)


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


class DashboardFilterForm(forms.Form):
    date_from = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    collector = UserChoiceField(
        label=gettext_lazy("Collector"), required=False, queryset=get_user_model()._default_manager.none()
    )
    team = forms.ModelChoiceField(label=gettext_lazy("Team"), required=False, queryset=Team.objects.none())
    product = forms.ModelChoiceField(
        label=gettext_lazy("Product"), required=False, queryset=Product.objects.none()
    )

    def __init__(self, *args, user, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        collectors = visible_collectors(user).filter(groups__name__in=[COLLECTOR, TEAM_LEAD]).distinct()
        self.fields["collector"].queryset = collectors.order_by("username")
        self.fields["team"].queryset = visible_teams(user).order_by("name")
        self.fields["product"].queryset = (
            access.products_for(user).select_related("creditor").order_by("name")
        )

    def clean(self):
        data = super().clean()
        default = default_period(self.today)
        start = data.get("date_from") or default.start
        end = data.get("date_to") or (default.end if start <= default.end else start)
        if end < start:
            self.add_error("date_to", _("The end date is before the start date."))
            return data
        if (end - start).days >= MAX_PERIOD_DAYS:
            self.add_error("date_to", _("Choose a period of at most a year."))
            return data
        data["period"] = kpis.Period(start, end)
        return data

    def filters(self) -> dict:
        data = self.cleaned_data
        return {"collector": data.get("collector"), "team": data.get("team"), "product": data.get("product")}


def _filtered_form(request) -> tuple[DashboardFilterForm, kpis.Period, dict]:
    today = timezone.localdate()
    form = DashboardFilterForm(request.GET or None, user=request.user, today=today)
    if form.is_bound and form.is_valid():
        return form, form.cleaned_data["period"], form.filters()
    return form, default_period(today), {"collector": None, "team": None, "product": None}


def scoped_querysets(user, *, collector=None, team=None, product=None) -> dict[str, QuerySet]:
    """The rows behind the numbers: what ``user`` may see, narrowed by the filters."""
    filters = {"collector": collector, "team": team, "product": product}
    cases = access.cases_for(user).filter(kpis._case_filter("", collector=collector, team=team))
    if product is not None:
        cases = cases.filter(debts__product=product).distinct()
    return {
        "cases": cases,
        "debts": kpis.filter_debts(access.debts_for(user), **filters),
        "contacts": kpis.filter_contacts(access.contacts_for(user), **filters),
        "promises": kpis.filter_promises(access.promises_for(user), **filters),
        "payments": kpis.filter_payments(access.payments_for(user), **filters),
    }


# --------------------------------------------------------------------------
# Presentation helpers


def percent(value: Decimal | None) -> str:
    """``Decimal("0.6538")`` → ``"65.38 %"``; ``None`` → ``"—"``."""
    if value is None:
        return "—"
    return f"{(value * 100).quantize(Decimal('0.01'))} %"


def _context(request, title: str, **extra) -> dict:
    return {**admin.site.each_context(request), "title": title, **extra}


def _roll_table(matrix: dict) -> dict:
    buckets = matrix["buckets"]
    used = [b for b in buckets if any(row["cells"].get(b) for row in matrix["rows"])]
    columns = [b for b in buckets if b in used or b in {r["bucket"] for r in matrix["rows"]}]
    rows = [
        {
            "bucket": row["bucket"],
            "accounts": row["accounts"],
            "start_balance": row["start_balance"],
            "closed": row["closed"],
            "roll": percent(row["roll"]),
            "cells": [
                percent(row["cells"].get(column)) if row["cells"].get(column) else "" for column in columns
            ],
        }
        for row in matrix["rows"]
    ]
    chart = ""
    if matrix["rows"]:
        chart = charts.matrix_chart(
            [row["bucket"] for row in matrix["rows"]],
            columns,
            [[row["cells"].get(column) for column in columns] for row in matrix["rows"]],
            title=_("Roll rates by balance"),
        )
    return {"columns": columns, "rows": rows, "chart": chart}


# --------------------------------------------------------------------------
# Views


def dashboard_view(request):
    _require_dashboard(request)
    form, period, filters = _filtered_form(request)
    qs = scoped_querysets(request.user, **filters)
    summary = kpis.kpi_summary(
        debts=qs["debts"],
        contacts=qs["contacts"],
        promises=qs["promises"],
        payments=qs["payments"],
        period=period,
    )
    rates = [
        ("right_party_contact_rate", _("Right-party contact rate"), _("reached the debtor / outbound calls")),
        ("promise_rate", _("Promise rate"), _("promises / right-party contacts")),
        ("promise_kept_rate", _("Promise-kept rate"), _("kept amount / amount due")),
        ("cure_rate", _("Cure rate"), _("back to current / delinquent at start")),
        ("recovery_rate", _("Recovery rate"), _("collected / delinquent at start + placements")),
    ]
    per_day = kpis.collected_per_day(qs["payments"], period)
    by_bucket = kpis.portfolio_by_bucket(qs["debts"])
    by_stage = kpis.portfolio_by_stage(qs["debts"])
    stage_names = dict(CollectionCase.Stage.choices)
    for row in by_stage:
        row["label"] = stage_names.get(row["stage"], row["stage"])
    context = _context(
        request,
        _("KPI dashboard"),
        form=form,
        period=period,
        summary=summary,
        rate_cards=[(label, percent(summary[key]), help_text) for key, label, help_text in rates],
        rates_chart=charts.bar_chart(
            [label for _key, label, _help in rates],
            [summary[key] for key, _label, _help in rates],
            title=_("Rates for the period (%)"),
            percent=True,
        ),
        roll=_roll_table(kpis.roll_rate_matrix(qs["debts"], period)),
        per_day=per_day,
        per_day_chart=charts.daily_chart(
            [day for day, _amount in per_day],
            [amount for _day, amount in per_day],
            title=_("Collected per day"),
            ylabel=_("amount"),
        ),
        by_bucket=by_bucket,
        bucket_chart=charts.bar_chart(
            [row["bucket"] for row in by_bucket],
            [row["balance"] for row in by_bucket],
            title=_("Portfolio balance by bucket"),
        ),
        by_stage=by_stage,
        stage_chart=charts.bar_chart(
            [row["label"] for row in by_stage],
            [row["balance"] for row in by_stage],
            title=_("Portfolio balance by stage"),
        ),
        query=request.GET.urlencode(),
        leaderboard_url=reverse("kpi-leaderboard"),
    )
    return render(request, "admin/dashboard/index.html", context)


def leaderboard_view(request):
    _require_dashboard(request)
    form, period, filters = _filtered_form(request)
    qs = scoped_querysets(request.user, **filters)
    board = kpis.leaderboard(
        users=visible_collectors(request.user),
        cases=qs["cases"],
        contacts=qs["contacts"],
        promises=qs["promises"],
        payments=qs["payments"],
        period=period,
    )
    query = request.GET.urlencode()
    for row in board:
        row["kept_rate_display"] = percent(row["kept_rate"])
        row["url"] = reverse("kpi-collector", args=[row["user_id"]]) + (f"?{query}" if query else "")
    chart = ""
    if board:
        top = board[:15]
        chart = charts.bar_chart(
            [r["user"].get_full_name() or r["user"].get_username() for r in top],
            [r["collected"] for r in top],
            title=_("Collected in the period"),
        )
    context = _context(
        request,
        _("Collector leaderboard"),
        form=form,
        period=period,
        board=board,
        chart=chart,
        query=query,
    )
    return render(request, "admin/dashboard/leaderboard.html", context)


def collector_view(request, user_id: int):
    _require_dashboard(request)
    collector = visible_collectors(request.user).filter(pk=user_id).first()
    if collector is None:
        raise Http404
    form, period, filters = _filtered_form(request)
    filters = {**filters, "collector": None}
    qs = scoped_querysets(request.user, **filters)
    summary = kpis.collector_summary(
        collector=collector,
        cases=qs["cases"],
        contacts=qs["contacts"],
        promises=qs["promises"],
        payments=qs["payments"],
        debts=qs["debts"],
        period=period,
    )
    context = _context(
        request,
        _("Collector: %(name)s") % {"name": collector.get_full_name() or collector.get_username()},
        form=form,
        period=period,
        collector=collector,
        summary=summary,
        cards=[
            (_("Assigned cases"), summary["assigned_cases"]),
            (_("Worked cases"), summary["worked_cases"]),
            (_("Contacts"), summary["contacts"]),
            (_("Right-party contacts"), summary["right_party_contacts"]),
            (_("Right-party contact rate"), percent(summary["right_party_contact_rate"])),
            (_("Promises"), summary["promises"]),
            (_("Promise rate"), percent(summary["promise_rate"])),
            (_("Promise-kept rate"), percent(summary["kept_rate"])),
            (_("Collected"), summary["collected"]),
        ],
        per_day_chart=charts.daily_chart(
            [day for day, _amount in summary["per_day"]],
            [amount for _day, amount in summary["per_day"]],
            title=_("Collected per day"),
            ylabel=_("amount"),
        ),
        bucket_chart=charts.bar_chart(
            [row["bucket"] for row in summary["by_bucket"]],
            [row["balance"] for row in summary["by_bucket"]],
            title=_("Cases held now: balance by bucket"),
        ),
        query=request.GET.urlencode(),
    )
    return render(request, "admin/dashboard/collector.html", context)


def dashboard_urls() -> list:
    """Mount with ``path("admin/dashboard/", include(dashboard_urls()))``
    before ``path("admin/", admin.site.urls)``."""
    return [
        path("", admin.site.admin_view(dashboard_view), name="kpi-dashboard"),
        path("collectors/", admin.site.admin_view(leaderboard_view), name="kpi-leaderboard"),
        path("collectors/<int:user_id>/", admin.site.admin_view(collector_view), name="kpi-collector"),
    ]


def supervision_links(request) -> list[tuple[str, str]]:
    """Entries for the admin index's "Supervision" box (for whoever wires it)."""
    if not can_view_dashboard(request.user):
        return []
    return [
        (_("KPI dashboard"), reverse("kpi-dashboard")),
        (_("Collector leaderboard"), reverse("kpi-leaderboard")),
    ]

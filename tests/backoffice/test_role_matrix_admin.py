"""Every admin screen × every persona (STYLE.md, "Persona tests").

The screens are read from ``admin.site._registry`` at collection time, so a
screen added later is covered the day it is registered, and the table
``ROWS`` must name its access function (a missing entry fails
``test_every_registered_screen_is_in_the_table``).

For each screen and persona:

- changelist: 200 with the model's view (or change) permission, else 403;
  the rows listed are exactly ``ROWS[model](user)`` (a subset for screens in
  ``NARROWER``);
- change view of the world's row of each case: 200 when the access function
  lets the user see it, else not found; a visible row never 403s and an
  invisible one never opens;
- history, old versions (simple-history) and any custom page of a row
  (``<object_id>/work/`` …): never shown for a row the user cannot see;
- add view: 200 only with the add permission (403 where the screen has no
  add form at all).

Not found is 404 by contract (DESIGN.md: a collector opening another
collector's case by URL gets a 404). Django's admin answers a missing row
with a redirect to the index instead; the matrix treats that redirect as
"not found" so it keeps finding leaks, and
``test_opening_an_invisible_row_by_url_answers_404`` holds the 404 contract
on its own.
"""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import RequestFactory
from django.urls import reverse
from django.utils.module_loading import import_string

from backoffice import access

pytest_plugins = ["tests.personas"]
pytestmark = pytest.mark.django_db

# Not customer data: the model permission alone decides (every row).
PERMISSION_ONLY = None

# app_label.ModelName → the access function whose rows the screen lists.
ROWS = {
    "customers.Customer": access.customers_for,
    "customers.ContactPoint": access.contact_points_for,
    "customers.ThirdPartyContact": access.third_parties_for,
    "cases.Creditor": access.creditors_for,
    "cases.CollectionPolicy": access.policies_for,
    "cases.Product": access.products_for,
    "cases.Team": access.teams_for,
    "cases.CollectionCase": access.cases_for,
    "cases.Debt": access.debts_for,
    "cases.Instalment": access.instalments_for,
    "cases.LedgerEntry": access.ledger_for,
    "cases.Payment": access.payments_for,
    # The claims queue (issue #14): the claims of the cases the user sees.
    "cases.PaymentClaim": access.payment_claims_for,
    "cases.Assignment": access.assignments_for,
    "cases.AssignmentRule": access.assignment_rules_for,
    "cases.CollectorProfile": access.collector_profiles_for,
    "cases.ContactAttempt": access.contacts_for,
    "cases.PromiseToPay": access.promises_for,
    "cases.PaymentPlan": access.plans_for,
    "cases.PlanInstalment": access.plan_instalments_for,
    "cases.Settlement": access.settlements_for,
    "cases.Dispute": access.disputes_for,
    "cases.Message": access.messages_for,
    "cases.RiskModel": access.risk_models_for,
    "cases.WatchListEntry": access.watch_list_for,
    "cases.DunningFiring": access.dunning_firings_for,
    "cases.MessageTemplate": access.message_templates_for,
    "cases.DunningStep": access.dunning_steps_for,
    "agencies.Agency": access.agencies_for,
    "agencies.AgencyPlacement": access.agency_placements_for,
    "bureau_inquiry.BureauReport": access.bureau_reports_for,
    "bureau_inquiry.BureauInquiryAttempt": access.bureau_attempts_for,
    "bureau_inquiry.BureauCircuit": PERMISSION_ONLY,
    "cases.BulkSettlementOffer": access.bulk_settlement_offers_for,
    "bureau.FurnisherProfile": access.furnisher_profiles_for,
    "bureau.FurnishingState": access.furnishing_states_for,
    "bureau.AssociatedConsumer": access.associated_consumers_for,
    "bureau.BureauSubmission": access.bureau_submissions_for,
    "placements.PlacementLayout": access.placement_layouts_for,
    "placements.PlacementFile": access.placement_files_for,
    # The legal app's row rules live in ``legal.access`` for now (named by
    # path so a half-written legal app cannot stop this module importing).
    "legal.Court": PERMISSION_ONLY,
    "legal.LawFirm": PERMISSION_ONLY,
    "legal.LegalMatter": "legal.access.matters_for",
    "legal.Filing": "legal.access.filings_for",
    "legal.Hearing": "legal.access.hearings_for",
    "legal.Deadline": "legal.access.deadlines_for",
    "legal.Judgment": "legal.access.judgments_for",
    "legal.EnforcementAction": "legal.access.enforcement_actions_for",
    "legal.LegalCost": "legal.access.legal_costs_for",
    "legal.LegalNotification": "legal.access.notifications_for",
    # Who looked at sensitive data: the audit roles see every row.
    "backoffice.AccessRecord": "backoffice.views.audit.access_records_for",
    # Django's and libraries' own screens: superusers (and whoever is given
    # their permissions by hand) only; no role holds them.
    "auth.User": PERMISSION_ONLY,
    "auth.Group": PERMISSION_ONLY,
    # API tokens (knox, stored as digests) and login lockouts (axes): the
    # Administrator role reads them, revokes a token and lifts a lockout.
    "knox.AuthToken": PERMISSION_ONLY,
    "axes.AccessAttempt": PERMISSION_ONLY,
    "axes.AccessLog": PERMISSION_ONLY,
    "axes.AccessFailureLog": PERMISSION_ONLY,
    "django_celery_beat.IntervalSchedule": PERMISSION_ONLY,
    "django_celery_beat.CrontabSchedule": PERMISSION_ONLY,
    "django_celery_beat.SolarSchedule": PERMISSION_ONLY,
    "django_celery_beat.ClockedSchedule": PERMISSION_ONLY,
    "django_celery_beat.PeriodicTask": PERMISSION_ONLY,
    "django_celery_results.TaskResult": PERMISSION_ONLY,
    "django_celery_results.GroupResult": PERMISSION_ONLY,
    # Second-factor devices (django-otp): Administrators see them and may
    # delete a lost one (never add or change); the screens hide secrets.
    "otp_totp.TOTPDevice": PERMISSION_ONLY,
    "otp_static.StaticDevice": PERMISSION_ONLY,
    # Payment statements: only the roles that see every case (docs/statements.md).
    "statements.StatementSource": access.statement_sources_for,
    "statements.StatementFile": access.statement_files_for,
    "statements.StatementLine": access.statement_lines_for,
    "statements.SuspenseLine": access.suspense_lines_for,
}

# Screens that list fewer rows than the user may see, on purpose (a queue):
# label → why. Their rows must still be a subset of the access function's.
NARROWER: dict[str, str] = {}

REGISTERED = sorted(admin.site._registry, key=lambda m: m._meta.label)

NOT_FOUND = "not found"


def _label(model) -> str:
    return model._meta.label


def _url(model, view, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _perm(model, action: str) -> str:
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def _fresh(user):
    return get_user_model().objects.get(pk=user.pk)


def _visible(model, user):
    rows = ROWS[_label(model)]
    if isinstance(rows, str):
        rows = import_string(rows)
    if rows is PERMISSION_ONLY:
        may = user.has_perm(_perm(model, "view")) or user.has_perm(_perm(model, "change"))
        return model._default_manager.all() if may else model._default_manager.none()
    return rows(user)


def _outcome(response) -> str | int:
    """The status, with the admin's "doesn't exist" redirect read as not found."""
    if response.status_code == 404:
        return NOT_FOUND
    if response.status_code == 302 and response.url == reverse("admin:index"):
        return NOT_FOUND
    return response.status_code


def _add_form_exists(model) -> bool:
    request = RequestFactory().get("/")
    request.user = get_user_model()(is_superuser=True, is_staff=True, is_active=True)
    return admin.site._registry[model].has_add_permission(request)


def _rows_to_open(world, model) -> list:
    """One row per case (A, B, C) for case data; the shared row otherwise."""
    concrete = model._meta.concrete_model
    by_case = world.rows.get(concrete)
    if by_case:
        return [objs[0] for _letter, objs in sorted(by_case.items())]
    shared = world.shared.get(concrete)
    return [shared] if shared is not None else []


# Object URLs every ModelAdmin has; the rest (a case page…) are found by name.
STANDARD_VIEWS = {"changelist", "add", "change", "delete", "history", "simple_history"}


def _other_object_urls(model, obj) -> list[tuple[str, str]]:
    """The history of ``obj``, one old version of it (simple-history) and
    every custom URL of its screen that takes the object id."""
    model_admin = admin.site._registry[model]
    prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
    urls = [("history", _url(model, "history", obj.pk))]
    history = getattr(model, "history", None)
    if history is not None and hasattr(model_admin, "history_form_view"):
        version = history.filter(pk=obj.pk).order_by("-history_id").first()
        if version is not None:
            urls.append(("old version", _url(model, "simple_history", obj.pk, version.history_id)))
    for pattern in model_admin.get_urls():
        name = getattr(pattern, "name", None) or ""
        view = name.removeprefix(prefix)
        if not name.startswith(prefix) or view in STANDARD_VIEWS:
            continue
        if "object_id" in str(pattern.pattern) or "pk" in str(pattern.pattern):
            urls.append((view, reverse(f"admin:{name}", args=[obj.pk])))
    return urls


def test_every_registered_screen_is_in_the_table():
    missing = sorted(_label(m) for m in REGISTERED if _label(m) not in ROWS)
    assert not missing, (
        "Admin screens with no row rule in ROWS (add the backoffice.access function "
        f"they list, or PERMISSION_ONLY): {missing}"
    )


@pytest.mark.parametrize("model", REGISTERED, ids=_label)
def test_screen_answers_each_persona_by_role(client, world, personas, model):
    label = _label(model)
    if label not in ROWS:
        pytest.fail(f"{label} is registered in the admin but missing from ROWS")
    add_form = _add_form_exists(model)
    rows_to_open = _rows_to_open(world, model)
    client.raise_request_exception = False  # a crash is a 500 in the report
    failures = []
    for name in world.PERSONAS:
        user = _fresh(personas[name])
        client.force_login(user)
        may_view = user.has_perm(_perm(model, "view")) or user.has_perm(_perm(model, "change"))
        visible = set(_visible(model, _fresh(user)).values_list("pk", flat=True))

        response = client.get(_url(model, "changelist"))
        expected = 200 if may_view else 403
        if response.status_code != expected:
            failures.append(f"{name}: changelist {response.status_code}, expected {expected}")
        elif expected == 200:
            listed = set(response.context["cl"].queryset.values_list("pk", flat=True))
            if not listed <= visible:
                failures.append(f"{name}: changelist lists invisible rows {sorted(listed - visible)}")
            elif label not in NARROWER and listed != visible:
                failures.append(f"{name}: changelist misses visible rows {sorted(visible - listed)}")

        for obj in rows_to_open:
            outcome = _outcome(client.get(_url(model, "change", obj.pk)))
            seen = obj.pk in visible
            if seen and label not in NARROWER:
                expected = 200
            elif seen:
                continue
            elif may_view:
                expected = NOT_FOUND
            else:
                # No permission on the model at all: refused like the list.
                expected = 403
            if outcome != expected:
                failures.append(
                    f"{name}: change view of {obj!r} (pk {obj.pk}) → {outcome}, expected {expected}"
                )

            if seen:
                continue
            for what, url in _other_object_urls(model, obj):
                outcome = _outcome(client.get(url))
                if outcome not in (NOT_FOUND, 403):
                    failures.append(
                        f"{name}: {what} of invisible {obj!r} (pk {obj.pk}) → {outcome}, expected not found"
                    )

        expected = 200 if add_form and user.has_perm(_perm(model, "add")) else 403
        status = client.get(_url(model, "add")).status_code
        if status != expected:
            failures.append(f"{name}: add view {status}, expected {expected}")
        client.logout()
    assert not failures, f"{label}:\n" + "\n".join(failures)


def test_opening_an_invisible_row_by_url_answers_404(client, world, personas):
    """A collector opens case B's rows by URL: 404, not a redirect."""
    client.force_login(personas["collector"])
    answers = {}
    collector = _fresh(personas["collector"])
    for model in REGISTERED:
        concrete = model._meta.concrete_model
        if concrete not in world.rows or "B" not in world.rows[concrete]:
            continue
        if not collector.has_perm(_perm(model, "view")):
            continue  # refused outright (403), like its list
        row = world.rows[concrete]["B"][0]
        answers[_label(model)] = client.get(_url(model, "change", row.pk)).status_code
    assert answers, "the world has no row of case B on any screen"
    wrong = {label: status for label, status in answers.items() if status != 404}
    assert not wrong, f"expected 404, got: {wrong}"


def test_a_collector_sees_only_their_case_in_the_case_list(client, world, personas):
    client.force_login(personas["collector"])
    response = client.get(_url(world.cases["A"]._meta.model, "changelist"))
    assert response.status_code == 200
    assert set(response.context["cl"].queryset.values_list("pk", flat=True)) == {world.cases["A"].pk}


def test_outsider_is_refused_every_domain_screen(client, world, personas):
    client.force_login(personas["outsider"])
    opened = [
        _label(model)
        for model in REGISTERED
        if client.get(_url(model, "changelist")).status_code != 403 and model is not Group
    ]
    assert not opened


def test_history_of_an_invisible_row_is_not_shown(client, world, personas):
    """simple-history's history and old-version pages must not show what the
    change view hides: a collector reading case B's story by URL."""
    client.force_login(personas["collector"])
    case = world.cases["B"]
    version = case.history.order_by("-history_id").first()
    answers = {
        "history": client.get(_url(type(case), "history", case.pk)).status_code,
        "old version": client.get(
            _url(type(case), "simple_history", case.pk, version.history_id)
        ).status_code,
    }
    assert all(status in (403, 404) for status in answers.values()), answers

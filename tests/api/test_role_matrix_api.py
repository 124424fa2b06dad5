"""Every API route × every persona (STYLE.md, "Persona tests").

The routes are every router registered under ``/api/v1/`` (found through
``backoffice.api.urls.urlpatterns``, whatever the module calls its router),
read at collection time: a route added later is covered the day it is
registered, and ``ROUTES`` must say what it shows and who writes it
(a missing entry fails ``test_every_route_is_in_the_table``).

For each route and persona:

- unauthenticated list → 401;
- list → 200 with exactly the rows ``ROUTES[...].rows(user)`` allows (for
  routes under a customer: 404 under a customer the user may not see);
- detail of the world's row of each case → 200 if visible, else 404;
- ``POST`` on the list by a persona who may not write → 403 and no row
  written; by one who may, with an empty body → 400 and no row written;
- ``POST`` on each detail action (``reverse``, ``assign``, ``cancel``,
  ``reveal`` …) of a row the persona cannot see → 403 or 404, and no history
  row and no access record written;
- ``POST customers/{id}/reveal/`` on each customer the persona sees → 200
  and one access record for holders of ``customers.view_full_id``, else 403
  and none.
"""

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLResolver
from rest_framework.routers import BaseRouter
from rest_framework.test import APIClient

import backoffice.api.urls
from backoffice import access, roles
from backoffice.models import AccessRecord
from cases.agencies.models import Agency, AgencyPlacement
from cases.bureau.models import BureauSubmission
from cases.bureau_inquiry.models import BureauReport
from cases.models import (
    CollectionCase,
    CollectionPolicy,
    ContactAttempt,
    Creditor,
    Debt,
    Dispute,
    Message,
    Payment,
    PaymentClaim,
    PaymentPlan,
    Product,
    PromiseToPay,
    Settlement,
    Team,
)
from cases.placements.models import PlacementFile
from cases.statements.models import StatementFile
from customers.models import ContactPoint, Customer, ThirdPartyContact
from legal.models import Deadline, Filing, Hearing, LegalCost, LegalMatter

pytest_plugins = ["tests.personas"]
pytestmark = pytest.mark.django_db


def _perm_writer(perm: str):
    def may_write(user) -> bool:
        return user.is_superuser or user.has_perm(perm)

    may_write.__name__ = perm
    return may_write


def _role_writer(*role_names: str):
    def may_write(user) -> bool:
        return user.is_superuser or bool(access.roles_of(user) & set(role_names))

    may_write.__name__ = "/".join(role_names)
    return may_write


@dataclass(frozen=True)
class Route:
    model: type
    rows: object  # a backoffice.access function
    may_write: object = None  # user → bool; None: the list takes no POST
    parent: str | None = None  # URL kwarg naming the customer (nested routes)


ADMINISTRATORS = _role_writer(roles.ADMINISTRATOR)

# router basename → what the route lists and who may POST to its list.
ROUTES = {
    "policy": Route(CollectionPolicy, access.policies_for, ADMINISTRATORS),
    "creditor": Route(Creditor, access.creditors_for, ADMINISTRATORS),
    "product": Route(Product, access.products_for, ADMINISTRATORS),
    "customer": Route(Customer, access.customers_for, _perm_writer("customers.add_customer")),
    "customer-contact-point": Route(
        ContactPoint, access.contact_points_for, _perm_writer("customers.add_contactpoint"), "customer_pk"
    ),
    "customer-third-party": Route(
        ThirdPartyContact,
        access.third_parties_for,
        _perm_writer("customers.add_thirdpartycontact"),
        "customer_pk",
    ),
    "debt": Route(Debt, access.debts_for, _perm_writer("cases.add_debt")),
    "payment": Route(Payment, access.payments_for, _perm_writer("cases.add_payment")),
    "payment-claim": Route(PaymentClaim, access.payment_claims_for, _perm_writer("cases.add_paymentclaim")),
    "case": Route(CollectionCase, access.cases_for),
    "team": Route(Team, access.teams_for, _role_writer(roles.SUPERVISOR, roles.ADMINISTRATOR)),
    "contact": Route(ContactAttempt, access.contacts_for, _perm_writer("cases.add_contactattempt")),
    "promise": Route(PromiseToPay, access.promises_for, _perm_writer("cases.add_promisetopay")),
    "plan": Route(PaymentPlan, access.plans_for, _perm_writer("cases.add_paymentplan")),
    "settlement": Route(Settlement, access.settlements_for, _perm_writer("cases.add_settlement")),
    "dispute": Route(Dispute, access.disputes_for, _perm_writer("cases.add_dispute")),
    "message": Route(Message, access.messages_for),
    "agency": Route(Agency, access.agencies_for, _role_writer(roles.SUPERVISOR, roles.ADMINISTRATOR)),
    "agency-placement": Route(
        AgencyPlacement, access.agency_placements_for, _role_writer(roles.SUPERVISOR, roles.ADMINISTRATOR)
    ),
    "bureau-report": Route(BureauReport, access.bureau_reports_for),
    "bureau-submission": Route(BureauSubmission, access.bureau_submissions_for),
    "placement": Route(
        PlacementFile, access.placement_files_for, _perm_writer("placements.add_placementfile")
    ),
    "statement": Route(
        StatementFile, access.statement_files_for, _perm_writer("statements.add_statementfile")
    ),
    "legal-matter": Route(LegalMatter, access.matters_for, _perm_writer("legal.add_legalmatter")),
    "legal-filing": Route(Filing, access.filings_for, _perm_writer("legal.add_filing")),
    "legal-hearing": Route(Hearing, access.hearings_for, _perm_writer("legal.add_hearing")),
    "legal-deadline": Route(Deadline, access.deadlines_for, _perm_writer("legal.add_deadline")),
    "legal-cost": Route(LegalCost, access.legal_costs_for, _perm_writer("legal.add_legalcost")),
}


def _routers(patterns, base: str = "") -> list[tuple[str, BaseRouter]]:
    """Every router of every ``include()``d urls module, recursively, with
    the path it is included under (``legal/`` for the legal routes)."""
    found = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            here = base + str(pattern.pattern)
            module = pattern.urlconf_module
            if not isinstance(module, list | tuple):
                found += [(here, value) for value in vars(module).values() if isinstance(value, BaseRouter)]
            found += _routers(pattern.url_patterns, here)
    return found


def _registry() -> list[tuple[str, type, str]]:
    seen, entries = set(), []
    for base, router in _routers(backoffice.api.urls.urlpatterns):
        for prefix, viewset, basename in router.registry:
            if basename not in seen:
                seen.add(basename)
                entries.append((base + prefix, viewset, basename))
    return sorted(entries, key=lambda entry: entry[2])


REGISTRY = _registry()


def _fresh(user):
    return get_user_model().objects.get(pk=user.pk)


def _client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def _path(prefix: str, route: Route, customer_id=None) -> str:
    path = f"/api/v1/{prefix}/"
    if route.parent:
        path = path.replace(f"(?P<{route.parent}>[0-9]+)", str(customer_id))
    return path


def _customer_id(row):
    return row.customer_id if hasattr(row, "customer_id") else row.pk


def _takes_post(viewset) -> bool:
    return "post" in viewset.http_method_names and hasattr(viewset, "create")


def _post_actions(viewset) -> list[str]:
    """URL paths of the detail actions answering POST (``reverse``, ``assign``…)."""
    return [
        extra.url_path for extra in viewset.get_extra_actions() if extra.detail and "post" in extra.mapping
    ]


def test_every_route_is_in_the_table():
    assert REGISTRY, "no router found under backoffice.api.urls"
    missing = sorted(f"{prefix}/ ({basename})" for prefix, _v, basename in REGISTRY if basename not in ROUTES)
    assert not missing, f"API routes with no row rule in ROUTES: {missing}"


@pytest.mark.parametrize(("prefix", "viewset", "basename"), REGISTRY, ids=[e[2] for e in REGISTRY])
def test_route_answers_each_persona_by_role(world, personas, prefix, viewset, basename):
    route = ROUTES.get(basename)
    if route is None:
        pytest.fail(f"{prefix}/ ({basename}) is routed but missing from ROUTES")
    model = route.model
    customers = {letter: world.row(Customer, letter).pk for letter in sorted(world.cases)}
    failures = []

    anonymous = _client().get(_path(prefix, route, customers["A"]))
    if anonymous.status_code != 401:
        failures.append(f"anonymous: list {anonymous.status_code}, expected 401")

    for name in world.PERSONAS:
        user = _fresh(personas[name])
        client = _client(user)
        visible = set(route.rows(_fresh(user)).values_list("pk", flat=True))

        # list (under each customer for nested routes)
        parents = customers.items() if route.parent else [(None, None)]
        for letter, customer_id in parents:
            where = f" under customer {letter}" if letter else ""
            response = client.get(_path(prefix, route, customer_id), {"page_size": 1000})
            if route.parent and not access.customers_for(_fresh(user)).filter(pk=customer_id).exists():
                if response.status_code != 404:
                    failures.append(f"{name}: list{where} {response.status_code}, expected 404")
                continue
            if response.status_code != 200:
                failures.append(f"{name}: list{where} {response.status_code}, expected 200")
                continue
            body = response.json()
            listed = {row["id"] for row in (body["results"] if isinstance(body, dict) else body)}
            expected = visible
            if route.parent:
                expected = set(
                    route.rows(_fresh(user)).filter(customer_id=customer_id).values_list("pk", flat=True)
                )
            if listed != expected:
                failures.append(f"{name}: list{where} {sorted(listed)}, expected {sorted(expected)}")

        # detail of each case's row
        for letter, rows in sorted(world.rows.get(model, {}).items()):
            row = rows[0]
            path = f"{_path(prefix, route, _customer_id(row))}{row.pk}/"
            status = client.get(path).status_code
            expected = 200 if row.pk in visible else 404
            if status != expected:
                failures.append(f"{name}: detail of case {letter}'s row {status}, expected {expected}")

        # writes
        if _takes_post(viewset):
            before = model._default_manager.count()
            status = client.post(_path(prefix, route, customers["A"]), {}, format="json").status_code
            after = model._default_manager.count()
            if route.may_write is None:
                failures.append(f"{name}: {prefix}/ takes POST but ROUTES says nobody writes it")
            elif route.may_write(user):
                expected = {400} if not route.parent or customers["A"] in _visible_customers(user) else {404}
                if status not in expected:
                    failures.append(f"{name}: empty POST {status}, expected {sorted(expected)}")
            else:
                # Under a customer the persona cannot see, the customer's 404
                # comes first; either way nothing is written.
                hidden_parent = route.parent and customers["A"] not in _visible_customers(user)
                expected = {403, 404} if hidden_parent else {403}
                if status not in expected:
                    failures.append(
                        f"{name}: POST {status}, expected {sorted(expected)} (no {route.may_write.__name__})"
                    )
            if after != before:
                failures.append(f"{name}: POST wrote {after - before} row(s)")

        # actions on rows the persona cannot see
        for action in _post_actions(viewset):
            for letter, rows in sorted(world.rows.get(model, {}).items()):
                row = rows[0]
                if row.pk in visible:
                    continue
                history = model.history.count() if hasattr(model, "history") else None
                records = AccessRecord.objects.count()
                path = f"{_path(prefix, route, _customer_id(row))}{row.pk}/{action}/"
                status = client.post(path, {"reason": "matrix"}, format="json").status_code
                if status not in (403, 404):
                    failures.append(
                        f"{name}: POST {action} on case {letter}'s row {status}, expected 403/404"
                    )
                if history is not None and model.history.count() != history:
                    failures.append(f"{name}: POST {action} on case {letter}'s row wrote history")
                # A refused reveal (customers/{id}/reveal/) must not be recorded as one.
                if AccessRecord.objects.count() != records:
                    failures.append(f"{name}: POST {action} on case {letter}'s row wrote an access record")
    assert not failures, f"{prefix}/:\n" + "\n".join(failures)


def _visible_customers(user) -> set[int]:
    return set(access.customers_for(_fresh(user)).values_list("pk", flat=True))


def test_a_collector_opening_another_collectors_case_gets_404(world, personas):
    client = _client(_fresh(personas["collector"]))
    assert client.get(f"/api/v1/cases/{world.cases['A'].pk}/").status_code == 200
    assert client.get(f"/api/v1/cases/{world.cases['B'].pk}/").status_code == 404
    assert client.get(f"/api/v1/debts/{world.row(Debt, 'B').pk}/").status_code == 404


def test_reveal_answers_each_persona_on_the_customers_it_sees(world, personas):
    failures = []
    for name in world.PERSONAS:
        user = _fresh(personas[name])
        client = _client(user)
        may_reveal = access.can_view_full_id(user)
        for customer_id in sorted(_visible_customers(user)):
            before = AccessRecord.objects.filter(action=AccessRecord.Action.REVEAL_PERSONAL_DATA).count()
            response = client.post(
                f"/api/v1/customers/{customer_id}/reveal/",
                {"field": "national_id", "reason": "matrix"},
                format="json",
            )
            written = (
                AccessRecord.objects.filter(action=AccessRecord.Action.REVEAL_PERSONAL_DATA).count() - before
            )
            expected = (200, 1) if may_reveal else (403, 0)
            if (response.status_code, written) != expected:
                failures.append(
                    f"{name}: reveal on customer {customer_id} → {response.status_code} with {written} "
                    f"record(s), expected {expected}"
                )
    assert not failures, "\n".join(failures)

"""Roles and their model permissions: the one mapping (DESIGN.md, Access).

``manage.py setup_roles`` turns this into Django groups; tests, fixtures and
later screens read it from here instead of repeating permission lists.
Model permissions say *what kind of row* a role may see or change; which
rows it sees is ``backoffice.access``'s business.

A spec is a set of strings:

- ``"app_label.codename"``: one permission; it must exist, so a typo fails
  loudly instead of silently granting nothing;
- ``"app_label.*"``: every permission of that app (models added later are
  picked up by the next ``setup_roles``);
- ``"view:app_label"``: every ``view_*`` permission of that app, the
  historical models' included.
"""

from django.contrib.auth.models import Permission
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q

DOMAIN_APPS = ("customers", "cases", "legal")

COLLECTOR = "Collector"
TEAM_LEAD = "Team lead"
LEGAL = "Legal"
COMPLIANCE = "Compliance"
SUPERVISOR = "Supervisor"
ADMINISTRATOR = "Administrator"
AGENCY = "Agency"

_COLLECTOR_VIEW = {
    "customers.view_customer",
    "customers.view_contactpoint",
    "customers.view_thirdpartycontact",
    "cases.view_creditor",
    "cases.view_product",
    "cases.view_collectioncase",
    "cases.view_debt",
    "cases.view_instalment",
    "cases.view_ledgerentry",
    "cases.view_payment",
}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    COLLECTOR: frozenset(_COLLECTOR_VIEW | {"customers.add_contactpoint", "cases.add_payment"}),
    TEAM_LEAD: frozenset(
        _COLLECTOR_VIEW
        | {
            "customers.add_contactpoint",
            "cases.add_payment",
            "cases.change_collectioncase",
            "cases.view_team",
        }
    ),
    LEGAL: frozenset(
        {
            "customers.view_customer",
            "cases.view_creditor",
            "cases.view_product",
            "cases.view_collectioncase",
            "cases.view_debt",
            "cases.view_instalment",
            "cases.view_ledgerentry",
            "legal.*",
        }
    ),
    COMPLIANCE: frozenset({"view:customers", "view:cases", "view:legal", "customers.view_full_id"}),
    # Supervisors also assign work and run teams (DESIGN.md: ``teams/``
    # "Supervisor writes"; ``cases/{id}/assign/``).
    SUPERVISOR: frozenset(
        {
            "view:customers",
            "view:cases",
            "view:legal",
            "customers.view_full_id",
            "cases.change_collectioncase",
            "cases.add_team",
            "cases.change_team",
        }
    ),
    ADMINISTRATOR: frozenset({"customers.*", "cases.*", "legal.*"}),
    # Staff of an outside agency: the collector's screens, no payments (money
    # reaches the creditor, not the agency); access.py limits them to the
    # cases placed with their agency.
    AGENCY: frozenset(_COLLECTOR_VIEW | {"customers.add_contactpoint"}),
}

ROLE_NAMES: tuple[str, ...] = tuple(ROLE_PERMISSIONS)


def _spec_filter(spec: str) -> Q:
    if spec.startswith("view:"):
        return Q(content_type__app_label=spec.removeprefix("view:"), codename__startswith="view_")
    app_label, _, codename = spec.partition(".")
    if not app_label or not codename:
        raise ImproperlyConfigured(f"Bad permission spec {spec!r} in backoffice.roles")
    if codename == "*":
        return Q(content_type__app_label=app_label)
    return Q(content_type__app_label=app_label, codename=codename)


def permissions_for_role(role: str) -> list[Permission]:
    """The ``Permission`` rows ``role`` should hold, in a stable order.

    Raises ``ImproperlyConfigured`` when an exact ``app.codename`` in the
    mapping names a permission that does not exist.
    """
    specs = ROLE_PERMISSIONS[role]
    query = Q(pk__in=[])
    for spec in specs:
        query |= _spec_filter(spec)
    perms = list(
        Permission.objects.filter(query)
        .select_related("content_type")
        .order_by("content_type__app_label", "codename")
    )
    found = {f"{p.content_type.app_label}.{p.codename}" for p in perms}
    missing = sorted(s for s in specs if "*" not in s and not s.startswith("view:") and s not in found)
    if missing:
        raise ImproperlyConfigured(f"Role {role!r} names unknown permissions: {', '.join(missing)}")
    return perms

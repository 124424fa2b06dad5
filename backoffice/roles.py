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

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q

# The apps inside ``cases/`` with labels of their own (their models are cases
# business; roles that hold "everything of cases" hold them too).
CASES_SUBAPPS = ("bureau", "bureau_inquiry", "placements", "statements", "agencies")
DOMAIN_APPS = ("customers", "cases", "legal", *CASES_SUBAPPS)

COLLECTOR = "Collector"
TEAM_LEAD = "Team lead"
LEGAL = "Legal"
COMPLIANCE = "Compliance"
SUPERVISOR = "Supervisor"
ADMINISTRATOR = "Administrator"
AGENCY = "Agency"
# Back-office finance staff: check payment claims against the bank and approve them (issue #14).
PAYMENTS = "Payments"
# Service users of other systems (issue #14): API tokens, no admin, no second
# factor, their own throttle scope and token lifetime (backoffice.api).
INTEGRATION = "Integration"

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

# The story of a case as the collector's screens show it.
_WORK_VIEW = {
    "cases.view_assignment",
    "cases.view_contactattempt",
    "cases.view_promisetopay",
    "cases.view_paymentplan",
    "cases.view_planinstalment",
    "cases.view_settlement",
    "cases.view_dispute",
    "cases.view_message",
    "cases.view_watchlistentry",
}

# Working a case: log contacts, take promises, agree plans, request
# settlements (approval is the team lead's or supervisor's), record disputes;
# cancel a promise or a plan (change).
_WORK_WRITE = {
    "cases.add_contactattempt",
    "cases.add_promisetopay",
    "cases.change_promisetopay",
    "cases.add_paymentplan",
    "cases.change_paymentplan",
    "cases.add_settlement",
    "cases.add_dispute",
}

# Maker–checker (issue #14): people who take money on a call record a payment
# *claim*; someone else holding ``cases.approve_payment`` posts it.
_CLAIMS = {"cases.add_paymentclaim", "cases.view_paymentclaim"}
# Verify a skip-traced number with the debtor and record their consent
# (issue #15: until then the contact rules refuse to dial it).
_VERIFY_CONTACT_POINTS = {"customers.verify_contactpoint"}
_COLLECTOR = _COLLECTOR_VIEW | _WORK_VIEW | _WORK_WRITE | _CLAIMS | {"customers.add_contactpoint"}
_COLLECTOR |= _VERIFY_CONTACT_POINTS
# Credit bureau reports of their cases' customers (skip-trace leads); not for
# outside agencies. Team leads and supervisors may also ask for a fresh one.
_BUREAU_VIEW = {"bureau_inquiry.view_bureaureport", "bureau_inquiry.view_bureauinquiryattempt"}
_COLLECTOR |= _BUREAU_VIEW

# The lender's internal screens an outside agency's staff do not read.
_AGENCY_HIDDEN = {"cases.view_assignment", "cases.view_watchlistentry"}

# Supervisors run the outside agencies: the agencies, their rates and staff,
# placing cases and recalling them (a recall changes the placement).
_AGENCY_SUPERVISION = {
    "agencies.add_agency",
    "agencies.change_agency",
    "agencies.add_agencycommissionrate",
    "agencies.change_agencycommissionrate",
    "agencies.delete_agencycommissionrate",
    "agencies.add_agencymember",
    "agencies.change_agencymember",
    "agencies.delete_agencymember",
    "agencies.add_agencyplacement",
    "agencies.change_agencyplacement",
}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    COLLECTOR: frozenset(_COLLECTOR),
    # A collector who also assigns their teams' cases and approves
    # settlements within the team lead's limit (the services check the limit).
    TEAM_LEAD: frozenset(
        _COLLECTOR
        | {
            "cases.change_collectioncase",
            "cases.change_settlement",
            "bureau_inquiry.request_bureaureport",
            "cases.view_team",
            "cases.view_assignmentrule",
            "cases.view_collectorprofile",
        }
    ),
    # Legal staff read the case, its money and its contact history, and own
    # the legal app. Contact points: addresses for service of process.
    LEGAL: frozenset(
        {
            "customers.view_customer",
            "customers.view_contactpoint",
            "cases.view_creditor",
            "cases.view_product",
            "cases.view_collectioncase",
            "cases.view_debt",
            "cases.view_instalment",
            "cases.view_ledgerentry",
            "cases.view_contactattempt",
            "cases.view_message",
            "legal.*",
        }
    ),
    # Read everything; resolving disputes is compliance work (RULES §5).
    COMPLIANCE: frozenset(
        {
            "view:customers",
            "view:cases",
            "view:legal",
            *(f"view:{app}" for app in CASES_SUBAPPS),
            "customers.view_full_id",
            "cases.change_dispute",
            "backoffice.view_accessrecord",
        }
    ),
    # Supervisors read everything, assign work (cases/{id}/assign/), decide
    # settlements beyond the team lead's limit and run teams, auto-assignment
    # rules and collector profiles (DESIGN.md: ``teams/`` "Supervisor writes").
    SUPERVISOR: frozenset(
        {
            "view:customers",
            "view:cases",
            "view:legal",
            *(f"view:{app}" for app in CASES_SUBAPPS),
            "customers.view_full_id",
            "customers.verify_contactpoint",
            "backoffice.view_accessrecord",
            "cases.change_collectioncase",
            "cases.change_settlement",
            "cases.add_team",
            "cases.change_team",
            "cases.add_assignmentrule",
            "cases.change_assignmentrule",
            "cases.add_collectorprofile",
            "cases.change_collectorprofile",
            "bureau_inquiry.request_bureaureport",
            # Small balances: define, preview and approve bulk settlement
            # offers (docs/small-balances.md).
            "cases.add_bulksettlementoffer",
            "cases.change_bulksettlementoffer",
            "cases.approve_bulksettlementoffer",
            # Payment claims of collectors and team leads: approve (post
            # through ``post_payment``) or reject, never their own (issue #14).
            "cases.approve_payment",
            # Outside agencies: run them (rates, staff) and place and recall
            # cases (``agencies/``, ``agency-placements/``: "Supervisor writes").
            *_AGENCY_SUPERVISION,
            # Payment statement files: import them and work the suspense
            # queue (match a line to a debt by hand, or return it); sources
            # (column layouts) are the administrator's (docs/statements.md).
            "statements.add_statementfile",
            "statements.change_statementline",
            "statements.change_suspenseline",
            # Placement files: upload a creditor's account file (admin,
            # ``placements/``); column layouts are the administrator's
            # (docs/placements.md).
            "placements.add_placementfile",
        }
    ),
    # ``backoffice.view_accessrecord``: the access records (who saw full IDs,
    # letters, exports) are for the roles that read the audit trail
    # (``backoffice.views.audit.AUDIT_ROLES``).
    ADMINISTRATOR: frozenset(
        {
            "customers.*",
            "cases.*",
            "legal.*",
            "backoffice.view_accessrecord",
            *(f"{app}.*" for app in CASES_SUBAPPS),
            # Second-factor devices (django-otp): see them and delete a lost
            # one, so its owner enrols again. Never add or change one: that
            # would let an administrator sign in as someone else.
            "otp_totp.view_totpdevice",
            "otp_totp.delete_totpdevice",
            "otp_static.view_staticdevice",
            "otp_static.delete_staticdevice",
            # Login lockouts (django-axes): read them and lift one early
            # (deleting the attempt row unlocks); API tokens (knox): read
            # them and revoke one. Never add or change either.
            "axes.view_accessattempt",
            "axes.delete_accessattempt",
            "axes.view_accesslog",
            "axes.view_accessfailurelog",
            "knox.view_authtoken",
            "knox.delete_authtoken",
        }
    ),
    # Back-office finance staff: the payments and the claims of every case,
    # with the debt and its ledger to check them against; they approve or
    # reject claims (never their own) and post nothing themselves. Not the
    # customer's data or the collection work (access.py: every case's money).
    PAYMENTS: frozenset(
        {
            "cases.view_creditor",
            "cases.view_product",
            "cases.view_debt",
            "cases.view_instalment",
            "cases.view_ledgerentry",
            "cases.view_payment",
            "cases.view_paymentclaim",
            "cases.approve_payment",
        }
    ),
    # Staff of an outside agency: the collector's screens and work, no
    # payments (money reaches the creditor, not the agency); access.py limits
    # them to the cases placed with their agency.
    # Not the lender's internal routing (assignments) or risk watch list;
    # their own agency and its placements (shared instructions).
    AGENCY: frozenset(
        _COLLECTOR_VIEW
        | (_WORK_VIEW - _AGENCY_HIDDEN)
        | _WORK_WRITE
        # No payment claims either: money reaches the creditor, not the agency.
        | {"customers.add_contactpoint", "agencies.view_agency", "agencies.view_agencyplacement"}
        | _VERIFY_CONTACT_POINTS
    ),
    # Service users of a creditor's or a bank's system, API only (not staff,
    # no second factor): place customers and accounts, post payments directly
    # (no claim: the money is already in the bank), send placement and
    # statement files, and read back what they sent. Every case
    # (``backoffice.access``), none of the collection work or the audit.
    INTEGRATION: frozenset(
        {
            "customers.view_customer",
            "customers.add_customer",
            "cases.view_creditor",
            "cases.view_product",
            "cases.view_debt",
            "cases.add_debt",
            "cases.view_payment",
            "cases.add_payment",
            "placements.view_placementlayout",
            "placements.view_placementfile",
            "placements.add_placementfile",
            "statements.view_statementsource",
            "statements.view_statementfile",
            "statements.add_statementfile",
        }
    ),
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


def permissions_for_role(role: str) -> list:
    """The ``Permission`` rows ``role`` should hold, in a stable order.

    Raises ``ImproperlyConfigured`` when an exact ``app.codename`` in the
    mapping names a permission that does not exist.
    """
    # Imported here: this module's names (role constants) are imported
    # while apps load, before ``auth``'s models exist.
    from django.contrib.auth.models import Permission

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

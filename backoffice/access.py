"""Who may see and change which rows: the one definition (DESIGN.md, Access).

Admin ``get_queryset``, API viewsets, exports and selectors call these
functions and nothing else. Every function takes the user and returns a
queryset restricted to the rows that user may see.

Two checks decide, both here:

1. the model permission (``backoffice.roles`` gives each role its
   permissions): a user without ``app.view_model`` sees no row of that model,
   whatever their role;
2. the row rule of the user's roles (Django groups named in
   ``backoffice.roles``), decided once, in ``_case_scope``:

   ============== ==========================================================
   role           cases (and everything reached through them)
   ============== ==========================================================
   superuser,     every case
   Administrator,
   Supervisor,
   Compliance
   Payments       every case; their model permissions reach only debts,
                  their ledgers, payments and payment claims
   Integration    every case; their model permissions reach only customers,
                  debts, payments, placement and statement files (API
                  service users, issue #14)
   Collector      cases assigned to them (closed ones too: their history)
   Team lead      cases of a team they lead, cases assigned to a member of
                  a team they lead, and their own
   Legal          cases in the ``legal`` stage
   Agency         cases with an open placement with the user's agency
                  (``cases.agencies``: ``AgencyMember`` ties the user to
                  one agency); of their contact attempts and messages only
                  the agency's own, plus the lender's, and the case's own
                  history (stage and assignee changes), only when the
                  placement shares the contact history (issue #15)
   no role        none, even with model permissions granted one by one
   ============== ==========================================================

   A user with several roles sees the union. Through a visible case a user
   sees its customer (and the customer's contact points and third parties),
   its debts, their instalments, ledger entries, payments and dunning
   firings, and the case's assignments, contact attempts, promises, plans
   (and plan instalments), settlements, disputes and messages.

Reference data (creditors, products, policies, teams, assignment rules,
collector profiles, message templates, dunning steps) is not customer data: any role holding the model's view
permission sees all of it.

Rows reached through cases are filtered with one ``IN (SELECT …)`` over the
visible cases, never with Python lists of ids, so the database does the
work however many cases a user has; roles that see every case get no filter
at all.

Writes: ``writable_cases_for`` is the set of cases a user may change work
on; services re-read the case they write through it (with
``select_for_update()``) inside their transaction (STYLE.md, "check access
again where you write").
"""

from django.db.models import Q, QuerySet, Subquery

from backoffice.roles import (
    ADMINISTRATOR,
    AGENCY,
    COLLECTOR,
    COMPLIANCE,
    INTEGRATION,
    LEGAL,
    PAYMENTS,
    ROLE_NAMES,
    SUPERVISOR,
    TEAM_LEAD,
)
from cases.agencies.models import Agency, AgencyMember, AgencyPlacement
from cases.models import (
    Assignment,
    AssignmentRule,
    CollectionCase,
    CollectionPolicy,
    CollectorProfile,
    ContactAttempt,
    Creditor,
    Debt,
    Dispute,
    DunningFiring,
    DunningStep,
    Instalment,
    LedgerEntry,
    Message,
    MessageTemplate,
    Payment,
    PaymentClaim,
    PaymentPlan,
    PlanInstalment,
    Product,
    PromiseToPay,
    Settlement,
    Team,
)
from customers.models import ContactPoint, Customer, ThirdPartyContact

# Roles whose members see every row (of the models they may view).
SEES_EVERY_CASE = frozenset({ADMINISTRATOR, SUPERVISOR, COMPLIANCE})
# Back-office finance staff check money on any account: their case scope is
# every case, and their model permissions (``backoffice.roles``) keep them to
# debts, ledgers, payments and payment claims. Not in ``SEES_EVERY_CASE``:
# that set also opens supervision screens (agency comparison, statements).
READS_EVERY_CASES_MONEY = frozenset({PAYMENTS})
# Integration service users (API only) place accounts, post payments and send
# placement and statement files for any creditor: every case, and their model
# permissions (``backoffice.roles``) keep them to customers, debts, payments
# and those files. Not in ``SEES_EVERY_CASE`` either (no supervision screens).
INTEGRATES_EVERY_CASE = frozenset({INTEGRATION})
# Roles whose members may work (write on) every case.
WRITES_EVERY_CASE = frozenset({ADMINISTRATOR, SUPERVISOR})

# ``role_of`` answers the broadest role first.
_ROLE_ORDER = (
    ADMINISTRATOR,
    SUPERVISOR,
    COMPLIANCE,
    PAYMENTS,
    TEAM_LEAD,
    LEGAL,
    COLLECTOR,
    AGENCY,
    INTEGRATION,
)

# ``_case_scope`` answers one of these, or a ``Q`` over ``CollectionCase``.
EVERY = "every"
NOTHING = "nothing"


def _is_active(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def roles_of(user) -> frozenset[str]:
    """The user's roles (the groups of ``backoffice.roles.ROLE_NAMES`` they
    belong to); empty for anonymous and inactive users.

    One query per user object, then cached on it like Django's own
    permission cache: a request sees the roles it started with.
    """
    if not _is_active(user):
        return frozenset()
    cached = getattr(user, "_ledgerline_roles", None)
    if cached is None:
        cached = frozenset(user.groups.filter(name__in=ROLE_NAMES).values_list("name", flat=True))
        user._ledgerline_roles = cached
    return cached


def role_of(user) -> str | None:
    """The broadest of the user's roles (Administrator before Supervisor …
    before Agency), or ``None`` without one. For display and defaults; row
    rules always use every role (``roles_of``)."""
    roles = roles_of(user)
    return next((role for role in _ROLE_ORDER if role in roles), None)


def _team_lead_cases(user) -> Q:
    members_of_led_teams = Team.members.through.objects.filter(team__lead=user).values("user_id")
    return Q(team__lead=user) | Q(assigned_to__in=Subquery(members_of_led_teams)) | Q(assigned_to=user)


def _agency_cases(user) -> Q:
    """Cases with an open placement with the agency ``user`` works for."""
    placed = AgencyPlacement.objects.filter(status=AgencyPlacement.Status.OPEN, agency__members__user=user)
    return Q(pk__in=Subquery(placed.values("case_id")))


# Roles that see cases on their own account; a user holding one of them is
# not narrowed by the agency rules (a user should not hold both).
_LENDER_CASE_ROLES = frozenset({ADMINISTRATOR, SUPERVISOR, COMPLIANCE, PAYMENTS, TEAM_LEAD, LEGAL, COLLECTOR})


def _agency_only(user) -> bool:
    """Agency staff and nothing broader: the agency rules narrow their rows."""
    if not _is_active(user) or user.is_superuser:
        return False
    roles = roles_of(user)
    return AGENCY in roles and not roles & _LENDER_CASE_ROLES


def _case_scope(user):
    """``EVERY``, ``NOTHING`` or a ``Q`` selecting the cases ``user`` sees.

    The model permission is not checked here: callers check the permission
    of the model they return.
    """
    if not _is_active(user):
        return NOTHING
    if user.is_superuser:
        return EVERY
    roles = roles_of(user)
    if roles & (SEES_EVERY_CASE | READS_EVERY_CASES_MONEY | INTEGRATES_EVERY_CASE):
        return EVERY
    parts = []
    if COLLECTOR in roles:
        parts.append(Q(assigned_to=user))
    if TEAM_LEAD in roles:
        parts.append(_team_lead_cases(user))
    if LEGAL in roles:
        parts.append(Q(stage=CollectionCase.Stage.LEGAL))
    if AGENCY in roles:
        parts.append(_agency_cases(user))
    if not parts:
        return NOTHING
    scope = parts[0]
    for part in parts[1:]:
        scope |= part
    return scope


def _may_view(user, model) -> bool:
    """The model permission, held through a role (or as superuser)."""
    if not _is_active(user):
        return False
    if user.is_superuser:
        return True
    meta = model._meta
    return bool(roles_of(user)) and user.has_perm(f"{meta.app_label}.view_{meta.model_name}")


def _visible_case_ids(scope: Q) -> Subquery:
    return Subquery(CollectionCase.objects.filter(scope).values("pk"))


def _through_cases(user, queryset: QuerySet, case_path: str) -> QuerySet:
    """Rows of ``queryset`` whose case (reached by ``case_path``) ``user`` sees."""
    if not _may_view(user, queryset.model):
        return queryset.none()
    scope = _case_scope(user)
    if scope == EVERY:
        return queryset
    if scope == NOTHING:
        return queryset.none()
    return queryset.filter(**{f"{case_path}__in": _visible_case_ids(scope)})


def _through_customers(user, queryset: QuerySet, customer_path: str) -> QuerySet:
    """Rows of ``queryset`` whose customer has a case ``user`` sees."""
    if not _may_view(user, queryset.model):
        return queryset.none()
    scope = _case_scope(user)
    if scope == EVERY:
        return queryset
    if scope == NOTHING:
        return queryset.none()
    customers = CollectionCase.objects.filter(scope).values("customer_id")
    return queryset.filter(**{f"{customer_path}__in": Subquery(customers)})


def _reference(user, queryset: QuerySet) -> QuerySet:
    """Reference data: every row for a role holding the view permission."""
    if _may_view(user, queryset.model):
        return queryset
    return queryset.none()


# --- cases and what hangs off them --------------------------------------------


def cases_for(user) -> QuerySet:
    if not _may_view(user, CollectionCase):
        return CollectionCase.objects.none()
    scope = _case_scope(user)
    if scope == EVERY:
        return CollectionCase.objects.all()
    if scope == NOTHING:
        return CollectionCase.objects.none()
    return CollectionCase.objects.filter(scope)


def writable_cases_for(user) -> QuerySet:
    """The cases ``user`` may change work on (assign, log contacts, promise,
    plan, settle, hold…), whatever the model permissions say; services
    check both.

    Superusers, administrators and supervisors: every case. Collectors:
    their own cases that are not closed. Team leads: the cases they see
    (their teams', their members', their own). Legal: cases in the legal
    stage. Agency staff: the cases currently placed with their agency (an
    open placement; recall ends their work at once). Compliance: none.
    """
    if not _is_active(user):
        return CollectionCase.objects.none()
    roles = roles_of(user)
    if user.is_superuser or roles & WRITES_EVERY_CASE:
        return CollectionCase.objects.all()
    parts = []
    if COLLECTOR in roles:
        parts.append(Q(assigned_to=user) & ~Q(stage=CollectionCase.Stage.CLOSED))
    if TEAM_LEAD in roles:
        parts.append(_team_lead_cases(user))
    if LEGAL in roles:
        parts.append(Q(stage=CollectionCase.Stage.LEGAL))
    if AGENCY in roles:
        parts.append(_agency_cases(user) & ~Q(stage=CollectionCase.Stage.CLOSED))
    if not parts:
        return CollectionCase.objects.none()
    scope = parts[0]
    for part in parts[1:]:
        scope |= part
    return CollectionCase.objects.filter(scope)


def customers_for(user) -> QuerySet:
    return _through_customers(user, Customer.objects.all(), "pk")


def contact_points_for(user) -> QuerySet:
    return _through_customers(user, ContactPoint.objects.all(), "customer_id")


def third_parties_for(user) -> QuerySet:
    return _through_customers(user, ThirdPartyContact.objects.all(), "customer_id")


def debts_for(user) -> QuerySet:
    return _through_cases(user, Debt.objects.all(), "case_id")


def instalments_for(user) -> QuerySet:
    return _through_cases(user, Instalment.objects.all(), "debt__case_id")


def ledger_for(user) -> QuerySet:
    return _through_cases(user, LedgerEntry.objects.all(), "debt__case_id")


def payments_for(user) -> QuerySet:
    return _through_cases(user, Payment.objects.all(), "debt__case_id")


def payment_claims_for(user) -> QuerySet:
    """Payment claims of the visible cases (issue #14): the maker sees their
    case's claims; finance staff, supervision and administrators every one."""
    return _through_cases(user, PaymentClaim.objects.all(), "debt__case_id")


def may_approve_payments(user) -> bool:
    """Holds ``cases.approve_payment`` through a role (Supervisor,
    Administrator, Payments) or is a superuser. Which claims: those of
    ``payment_claims_to_decide_for``; never their own (the service checks)."""
    if not _is_active(user):
        return False
    return user.is_superuser or (bool(roles_of(user)) and user.has_perm("cases.approve_payment"))


def payment_claims_to_decide_for(user) -> QuerySet:
    """The approval queue: pending claims of the cases ``user`` sees, for a
    holder of ``approve_payment``; the user's own claims are not in it."""
    if not may_approve_payments(user):
        return PaymentClaim.objects.none()
    return payment_claims_for(user).filter(status=PaymentClaim.Status.PENDING).exclude(claimed_by_id=user.pk)


def assignments_for(user) -> QuerySet:
    return _through_cases(user, Assignment.objects.all(), "case_id")


def _agency_shared_cases(user) -> Subquery:
    """Ids of the cases whose open placement with ``user``'s agency shares
    the lender's contact history (``AgencyPlacement.share_contact_history``)."""
    shared = AgencyPlacement.objects.filter(
        status=AgencyPlacement.Status.OPEN, agency__members__user=user, share_contact_history=True
    )
    return Subquery(shared.values("case_id"))


def _shared_or_own_agency(user, rows: QuerySet) -> QuerySet:
    """For agency staff: the rows on a case whose placement shares the
    contact history, and the rows their own agency's staff wrote
    (``created_by``); everyone else keeps ``rows``."""
    if not _agency_only(user):
        return rows
    colleagues = AgencyMember.objects.filter(agency__members__user=user).values("user_id")
    return rows.filter(Q(case_id__in=_agency_shared_cases(user)) | Q(created_by__in=Subquery(colleagues)))


def contacts_for(user) -> QuerySet:
    """Contact attempts of the visible cases. Agency staff see their own
    agency's attempts, and the lender's (and other agencies') only on a case
    whose open placement shares the contact history: the creditor's
    internal notes stay internal unless the placement says otherwise."""
    return _shared_or_own_agency(user, _through_cases(user, ContactAttempt.objects.all(), "case_id"))


def promises_for(user) -> QuerySet:
    return _through_cases(user, PromiseToPay.objects.all(), "case_id")


def plans_for(user) -> QuerySet:
    return _through_cases(user, PaymentPlan.objects.all(), "case_id")


def plan_instalments_for(user) -> QuerySet:
    return _through_cases(user, PlanInstalment.objects.all(), "plan__case_id")


def settlements_for(user) -> QuerySet:
    return _through_cases(user, Settlement.objects.all(), "case_id")


def disputes_for(user) -> QuerySet:
    return _through_cases(user, Dispute.objects.all(), "case_id")


def messages_for(user) -> QuerySet:
    """Messages (SMS, emails, letters) of the visible cases. Agency staff see
    the lender's messages only on a case whose open placement shares the
    contact history, like contact attempts (``contacts_for``); messages
    their own agency's staff sent stay visible to them."""
    return _shared_or_own_agency(user, _through_cases(user, Message.objects.all(), "case_id"))


def case_histories_for(user) -> QuerySet:
    """The cases whose own history ``user`` may read: the stage and assignee
    changes on the case page, the timeline's stage events and the admin's
    history pages of the case. Every visible case (``cases_for``), except
    that agency staff read it only where the placement shares the lender's
    contact history: who worked the case before, and why it moved, is the
    lender's internal story."""
    cases = cases_for(user)
    if _agency_only(user):
        cases = cases.filter(pk__in=_agency_shared_cases(user))
    return cases


def may_read_case_history(user, case) -> bool:
    """Whether ``user`` reads ``case``'s own history (``case_histories_for``)."""
    case_id = getattr(case, "pk", case)
    return case_histories_for(user).filter(pk=case_id).exists()


def dunning_firings_for(user) -> QuerySet:
    return _through_cases(user, DunningFiring.objects.all(), "debt__case_id")


def watch_list_for(user) -> QuerySet:
    """Early-warning entries of the debts the user sees."""
    from cases.models import WatchListEntry

    return _through_cases(user, WatchListEntry.objects.all(), "debt__case_id")


def risk_models_for(user) -> QuerySet:
    """Scoring models are reference data: every version, given the view permission."""
    from cases.models import RiskModel

    return _reference(user, RiskModel.objects.all())


# --- outside agencies (cases.agencies) -------------------------------------------
#
# Agencies and their placements: supervision (superuser, Administrator,
# Supervisor, Compliance) sees every row; agency staff see their own agency
# and its open placements; anyone else holding the view permission sees the
# placements of the cases they see (the case's story) and every agency.

# Who places cases with agencies and recalls them.
PLACES_WITH_AGENCIES = frozenset({ADMINISTRATOR, SUPERVISOR})


def agencies_for(user) -> QuerySet:
    if not _may_view(user, Agency):
        return Agency.objects.none()
    if _agency_only(user):
        return Agency.objects.filter(members__user=user)
    return Agency.objects.all()


def agency_placements_for(user) -> QuerySet:
    if _agency_only(user):
        if not _may_view(user, AgencyPlacement):
            return AgencyPlacement.objects.none()
        return AgencyPlacement.objects.filter(status=AgencyPlacement.Status.OPEN, agency__members__user=user)
    return _through_cases(user, AgencyPlacement.objects.all(), "case_id")


def may_compare_agencies(user) -> bool:
    """The performance of every agency side by side is for supervision
    (superuser, Administrator, Supervisor, Compliance), never agency staff."""
    return _is_active(user) and (user.is_superuser or bool(roles_of(user) & SEES_EVERY_CASE))


def may_place_with_agencies(user) -> bool:
    """Supervisors, administrators and superusers place and recall."""
    return _is_active(user) and (user.is_superuser or bool(roles_of(user) & PLACES_WITH_AGENCIES))


# Legal matters (legal app, a later issue): Legal, Compliance, Supervisor and
# Administrator see all of them; others through their visible cases.


# --- reference data -----------------------------------------------------------


def creditors_for(user) -> QuerySet:
    return _reference(user, Creditor.objects.all())


def products_for(user) -> QuerySet:
    return _reference(user, Product.objects.all())


def policies_for(user) -> QuerySet:
    return _reference(user, CollectionPolicy.objects.all())


def teams_for(user) -> QuerySet:
    return _reference(user, Team.objects.all())


def assignment_rules_for(user) -> QuerySet:
    return _reference(user, AssignmentRule.objects.all())


def collector_profiles_for(user) -> QuerySet:
    return _reference(user, CollectorProfile.objects.all())


def message_templates_for(user) -> QuerySet:
    return _reference(user, MessageTemplate.objects.all())


def dunning_steps_for(user) -> QuerySet:
    return _reference(user, DunningStep.objects.all())


# Bulk settlement offers for small balances (docs/small-balances.md): a rule
# over a policy's debts, not one customer's data; every row for a role with
# the view permission (Supervisor, Compliance, Administrator).
BULK_OFFER_APPROVERS = frozenset({SUPERVISOR, ADMINISTRATOR})


def bulk_settlement_offers_for(user) -> QuerySet:
    from cases.models import BulkSettlementOffer

    return _reference(user, BulkSettlementOffer.objects.all())


def may_approve_bulk_offers(user) -> bool:
    """Only a supervisor or an administrator (or a superuser) approves a bulk
    offer: the approval is their decision for the whole selection."""
    return _is_active(user) and (user.is_superuser or bool(roles_of(user) & BULK_OFFER_APPROVERS))


def can_view_full_id(user) -> bool:
    return bool(_is_active(user) and user.has_perm("customers.view_full_id"))


# -- Legal matters (RULES §7) -------------------------------------------------------------
#
# superuser, Administrator, Supervisor, Compliance, Legal: every matter.
# Collector, Team lead: matters of the cases they see (a collector sees the
# lawsuit on their own case, never one they are not party to), read-only:
# their roles hold no legal permissions. Agency, no role: none. Rows hanging
# off a matter follow it. ``referable_cases_for``: the Legal role sees only
# cases already in the legal stage, yet legal staff refer, so referral has
# its own scope.

from backoffice.roles import ADMINISTRATOR, COLLECTOR, COMPLIANCE, LEGAL, SUPERVISOR, TEAM_LEAD  # noqa: E402
from legal.models import (  # noqa: E402
    Deadline,
    EnforcementAction,
    Filing,
    Hearing,
    Judgment,
    LegalCost,
    LegalMatter,
    LegalNotification,
)

SEES_EVERY_MATTER = frozenset({ADMINISTRATOR, SUPERVISOR, COMPLIANCE, LEGAL})
SEES_OWN_CASES_MATTERS = frozenset({COLLECTOR, TEAM_LEAD})
REFERS_TO_LEGAL = frozenset({ADMINISTRATOR, SUPERVISOR, LEGAL})


def _active(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def matters_for(user) -> QuerySet:
    if not _active(user):
        return LegalMatter.objects.none()
    if user.is_superuser:
        return LegalMatter.objects.all()
    roles = roles_of(user)
    if roles & SEES_EVERY_MATTER:
        return LegalMatter.objects.all()
    if roles & SEES_OWN_CASES_MATTERS:
        return LegalMatter.objects.filter(case__in=Subquery(cases_for(user).values("pk")))
    return LegalMatter.objects.none()


def _through_matters(user, queryset: QuerySet) -> QuerySet:
    return queryset.filter(matter__in=Subquery(matters_for(user).values("pk")))


def filings_for(user) -> QuerySet:
    return _through_matters(user, Filing.objects.all())


def hearings_for(user) -> QuerySet:
    return _through_matters(user, Hearing.objects.all())


def deadlines_for(user) -> QuerySet:
    return _through_matters(user, Deadline.objects.all())


def judgments_for(user) -> QuerySet:
    return _through_matters(user, Judgment.objects.all())


def enforcement_actions_for(user) -> QuerySet:
    return _through_matters(user, EnforcementAction.objects.all())


def legal_costs_for(user) -> QuerySet:
    return _through_matters(user, LegalCost.objects.all())


def notifications_for(user) -> QuerySet:
    """A user's own reminders; nobody reads another's."""
    if not _active(user):
        return LegalNotification.objects.none()
    return LegalNotification.objects.filter(user=user)


def may_refer(user) -> bool:
    return _active(user) and (user.is_superuser or bool(roles_of(user) & REFERS_TO_LEGAL))


def referable_cases_for(user) -> QuerySet:
    """Cases ``user`` may refer to legal: any case not closed, for legal
    staff, supervisors, administrators and superusers; none for others."""
    if not may_refer(user):
        return CollectionCase.objects.none()
    return CollectionCase.objects.exclude(stage=CollectionCase.Stage.CLOSED)


def referable_debts_for(user) -> QuerySet:
    if not may_refer(user):
        return Debt.objects.none()
    return Debt.objects.filter(case__in=Subquery(referable_cases_for(user).values("pk")))


# -- Credit bureau inquiries (cases.bureau_inquiry) ----------------------------------------
#
# Reports and attempts are customer data: a user sees those of the customers
# of the cases they see (and holds the model's view permission). Asking for
# a fresh report ("refresh now") needs ``bureau_inquiry.request_bureaureport``
# and a case the user may work on (``writable_cases_for``).


def bureau_reports_for(user) -> QuerySet:
    from cases.bureau_inquiry.models import BureauReport

    return _through_customers(user, BureauReport.objects.all(), "customer_id")


def bureau_attempts_for(user) -> QuerySet:
    from cases.bureau_inquiry.models import BureauInquiryAttempt

    return _through_customers(user, BureauInquiryAttempt.objects.all(), "customer_id")


def may_request_bureau_report(user) -> bool:
    return _is_active(user) and (
        user.is_superuser or (bool(roles_of(user)) and user.has_perm("bureau_inquiry.request_bureaureport"))
    )


# -- Payment statement files and the suspense queue (cases.statements) ---------------
#
# Money that has not reached anybody's case yet: statement sources, files and
# their lines are seen by the roles that see every case (Administrator,
# Supervisor, Compliance) and superusers, given the model's view permission;
# nobody else (collectors see the resulting payments through their cases).
# Importing files and matching or returning suspense lines moves money on any
# debt: Administrator and Supervisor (and superusers) only, with the model
# permission (``statements.add_statementfile`` / ``change_statementline``).

RESOLVES_SUSPENSE = frozenset({ADMINISTRATOR, SUPERVISOR})


def _statement_rows(user, queryset: QuerySet) -> QuerySet:
    if not _may_view(user, queryset.model):
        return queryset.none()
    # Integration users read back the files they send (their model
    # permissions stop at sources and files).
    if user.is_superuser or roles_of(user) & (SEES_EVERY_CASE | INTEGRATES_EVERY_CASE):
        return queryset
    return queryset.none()


def statement_sources_for(user) -> QuerySet:
    from cases.statements.models import StatementSource

    return _statement_rows(user, StatementSource.objects.all())


def statement_files_for(user) -> QuerySet:
    from cases.statements.models import StatementFile

    return _statement_rows(user, StatementFile.objects.all())


def statement_lines_for(user) -> QuerySet:
    from cases.statements.models import StatementLine

    return _statement_rows(user, StatementLine.objects.all())


def suspense_lines_for(user) -> QuerySet:
    """The suspense queue: the lines of ``statement_lines_for`` in suspense."""
    from cases.statements.models import StatementLine, SuspenseLine

    if not _may_view(user, SuspenseLine) and not _may_view(user, StatementLine):
        return SuspenseLine.objects.none()
    if user.is_superuser or roles_of(user) & SEES_EVERY_CASE:
        return SuspenseLine.objects.filter(status=StatementLine.Status.SUSPENSE)
    return SuspenseLine.objects.none()


def _may_statements(user, permission: str, roles: frozenset[str] = RESOLVES_SUSPENSE) -> bool:
    if not _active(user):
        return False
    if not (user.is_superuser or roles_of(user) & roles):
        return False
    return user.has_perm(permission)


def may_import_statements(user) -> bool:
    """Also Integration users: a bank's system sends its statement files."""
    return _may_statements(user, "statements.add_statementfile", RESOLVES_SUSPENSE | INTEGRATES_EVERY_CASE)


def may_resolve_suspense(user) -> bool:
    return _may_statements(user, "statements.change_statementline")


# -- Placement files (cases.placements) -----------------------------------------------
#
# Layouts are reference data (the model permission decides). A placement file
# and its report carry many customers' data at once: the roles that see every
# case (superuser, Administrator, Supervisor, Compliance), given the view
# permission, see every file; nobody else sees any. Uploading is for
# superusers, Administrators and Supervisors holding
# ``placements.add_placementfile``.

# Integration: a creditor's system sends its account files.
UPLOADS_PLACEMENTS = frozenset({ADMINISTRATOR, SUPERVISOR, INTEGRATION})


def placement_layouts_for(user) -> QuerySet:
    from cases.placements.models import PlacementLayout

    return _reference(user, PlacementLayout.objects.all())


def placement_files_for(user) -> QuerySet:
    from cases.placements.models import PlacementFile

    if _may_view(user, PlacementFile) and _case_scope(user) == EVERY:
        return PlacementFile.objects.all()
    return PlacementFile.objects.none()


def may_upload_placements(user) -> bool:
    if not _is_active(user):
        return False
    if user.is_superuser:
        return True
    return bool(roles_of(user) & UPLOADS_PLACEMENTS) and user.has_perm("placements.add_placementfile")


# -- Credit bureau furnishing (cases.bureau, RULES §6) ----------------------------
#
# A Metro 2 file and a creditor's furnisher identifiers cover every account
# of the creditor at once: like placement files, only the roles that see
# every case (superuser, Administrator, Supervisor, Compliance), given the
# view permission, see them. An account's furnishing details and its
# co-borrowers follow the account's case.


def bureau_submissions_for(user) -> QuerySet:
    from cases.bureau.models import BureauSubmission

    if _may_view(user, BureauSubmission) and _case_scope(user) == EVERY:
        return BureauSubmission.objects.all()
    return BureauSubmission.objects.none()


def furnisher_profiles_for(user) -> QuerySet:
    from cases.bureau.models import FurnisherProfile

    if _may_view(user, FurnisherProfile) and _case_scope(user) == EVERY:
        return FurnisherProfile.objects.all()
    return FurnisherProfile.objects.none()


def furnishing_states_for(user) -> QuerySet:
    from cases.bureau.models import FurnishingState

    return _through_cases(user, FurnishingState.objects.all(), "debt__case_id")


def associated_consumers_for(user) -> QuerySet:
    from cases.bureau.models import AssociatedConsumer

    return _through_cases(user, AssociatedConsumer.objects.all(), "debt__case_id")

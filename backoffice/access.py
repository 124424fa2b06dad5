"""Who may see and change which rows: the one definition (DESIGN.md, Access).

Admin ``get_queryset``, API viewsets, exports and selectors call these
functions and nothing else. Every function takes the user and returns a
queryset restricted to the rows that user may see.

Foundation stage: superusers and staff holding the model's ``view``
permission see all rows; everyone else sees none. Row-level rules per role
(collector, team lead, legal, …) are added here and only here.
"""

from django.db.models import QuerySet

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
    Instalment,
    LedgerEntry,
    Payment,
    PaymentPlan,
    Product,
    PromiseToPay,
    Settlement,
    Team,
)
from customers.models import ContactPoint, Customer, ThirdPartyContact


def _restrict(user, queryset: QuerySet) -> QuerySet:
    if not user or not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user.is_superuser:
        return queryset
    meta = queryset.model._meta
    if user.has_perm(f"{meta.app_label}.view_{meta.model_name}"):
        return queryset
    return queryset.none()


def customers_for(user) -> QuerySet:
    return _restrict(user, Customer.objects.all())


def contact_points_for(user) -> QuerySet:
    return _restrict(user, ContactPoint.objects.all())


def third_parties_for(user) -> QuerySet:
    return _restrict(user, ThirdPartyContact.objects.all())


def debts_for(user) -> QuerySet:
    return _restrict(user, Debt.objects.all())


def ledger_for(user) -> QuerySet:
    return _restrict(user, LedgerEntry.objects.all())


def payments_for(user) -> QuerySet:
    return _restrict(user, Payment.objects.all())


def cases_for(user) -> QuerySet:
    return _restrict(user, CollectionCase.objects.all())


def creditors_for(user) -> QuerySet:
    return _restrict(user, Creditor.objects.all())


def products_for(user) -> QuerySet:
    return _restrict(user, Product.objects.all())


def policies_for(user) -> QuerySet:
    return _restrict(user, CollectionPolicy.objects.all())


def instalments_for(user) -> QuerySet:
    return _restrict(user, Instalment.objects.all())


def teams_for(user) -> QuerySet:
    return _restrict(user, Team.objects.all())


def assignments_for(user) -> QuerySet:
    return _restrict(user, Assignment.objects.all())


def assignment_rules_for(user) -> QuerySet:
    return _restrict(user, AssignmentRule.objects.all())


def collector_profiles_for(user) -> QuerySet:
    return _restrict(user, CollectorProfile.objects.all())


def contacts_for(user) -> QuerySet:
    return _restrict(user, ContactAttempt.objects.all())


def promises_for(user) -> QuerySet:
    return _restrict(user, PromiseToPay.objects.all())


def plans_for(user) -> QuerySet:
    return _restrict(user, PaymentPlan.objects.all())


def settlements_for(user) -> QuerySet:
    return _restrict(user, Settlement.objects.all())


def disputes_for(user) -> QuerySet:
    return _restrict(user, Dispute.objects.all())


def can_view_full_id(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm("customers.view_full_id"))

"""Policies, creditors, products, debts, the ledger, payments and cases as
the API shows them (DESIGN.md, Contracts).

Money is a decimal string with two places; dates are ISO 8601. Input
serializers for business actions (placing a debt, posting or reversing a
payment) only check the shape of the request; the services decide the rest.
"""

from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from backoffice.access import creditors_for, customers_for, debts_for, policies_for, products_for
from backoffice.api import CleanModelSerializer, VisibleRelatedField, money
from cases.models import (
    WATERFALL_STEPS,
    CollectionCase,
    CollectionPolicy,
    Creditor,
    Debt,
    Instalment,
    LedgerEntry,
    Payment,
    Product,
)
from cases.policy_presets import preset
from customers.models import Customer


def not_in_future(value):
    if value > timezone.localdate():
        raise serializers.ValidationError(_("This date is in the future."))
    return value


# -- configuration -----------------------------------------------------------


class PolicySerializer(CleanModelSerializer):
    """A ``POST`` with only ``jurisdiction`` (and optionally ``name``) starts
    from that jurisdiction's preset; any other field given overrides it."""

    change_reason = "policy changed through the API"

    waterfall = serializers.ListField(
        child=serializers.ChoiceField(choices=list(WATERFALL_STEPS)),
        required=False,
        help_text=_("Ordered payment waterfall steps (RULES §2); must reach every component."),
    )
    bucket_edges = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        help_text=_("Upper DPD edges of M1, M2, …; increasing."),
    )

    class Meta:
        model = CollectionPolicy
        fields = [
            "id",
            "name",
            "jurisdiction",
            "currency",
            "penalty_daily_rate",
            "penalty_base",
            "grace_days",
            "tolerance",
            "cost_cap_annual_rate",
            "late_fee_fixed",
            "late_fee_percent",
            "late_fee_cap",
            "charge_off_dpd",
            "accrue_after_charge_off",
            "waterfall",
            "bucket_edges",
            "allow_credit_balance",
            "limitation_years",
            "contact_hours_start",
            "contact_hours_end",
            "promise_grace_days",
            "plan_default_after_missed",
            "settlement_limit_collector",
            "settlement_limit_team_lead",
            "legal_minimum_balance",
            "digital_only_below",
            "created_at",
        ]
        extra_kwargs = {"name": {"required": False}, "currency": {"required": False}}

    def validate(self, attrs):
        if self.instance is None:
            values = preset(attrs["jurisdiction"])
            values.update(attrs)
            values.setdefault("name", self._free_name(attrs["jurisdiction"]))
            attrs = values
        return super().validate(attrs)

    @staticmethod
    def _free_name(jurisdiction: str) -> str:
        # Names are unique across all policies, seen or not, like the
        # database constraint (full_clean() checks the same way).
        base = f"{jurisdiction} preset"
        name, n = base, 1
        while CollectionPolicy.objects.filter(name=name).exists():
            n += 1
            name = f"{base} {n}"
        return name


class CreditorSerializer(CleanModelSerializer):
    change_reason = "creditor changed through the API"

    class Meta:
        model = Creditor
        fields = ["id", "name", "short_code", "address", "phone", "email", "created_at"]


class ProductSerializer(CleanModelSerializer):
    change_reason = "product changed through the API"

    creditor = VisibleRelatedField(access=creditors_for, queryset=Creditor.objects.none())
    policy = VisibleRelatedField(access=policies_for, queryset=CollectionPolicy.objects.none())

    class Meta:
        model = Product
        fields = ["id", "name", "creditor", "policy", "created_at"]


# -- debts and the ledger -----------------------------------------------------


class BalancesSerializer(serializers.Serializer):
    """The debt's cached balances per component (= the sum of its ledger)."""

    principal = money(source="principal_balance", read_only=True)
    interest = money(source="interest_balance", read_only=True)
    penalty = money(source="penalty_balance", read_only=True)
    fees = money(source="fees_balance", read_only=True)
    legal_cost = money(source="legal_cost_balance", read_only=True)
    credit = money(
        source="credit_balance",
        read_only=True,
        help_text=_("Money owed back to the debtor (zero or negative)."),
    )
    total = money(source="total_balance", read_only=True)


class InstalmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Instalment
        fields = ["number", "due_on", "principal", "interest", "principal_balance", "interest_balance"]
        extra_kwargs = {
            "principal_balance": {"help_text": _("Principal of this instalment still owed.")},
            "interest_balance": {"help_text": _("Charged interest of this instalment still owed.")},
        }


class DebtSerializer(serializers.ModelSerializer):
    balances = BalancesSerializer(source="*", read_only=True)
    instalments = InstalmentSerializer(many=True, read_only=True)

    class Meta:
        model = Debt
        fields = [
            "id",
            "creditor",
            "product",
            "customer",
            "case",
            "account_number",
            "currency",
            "opened_on",
            "original_principal",
            "balances",
            "days_past_due",
            "bucket",
            "status",
            "date_of_first_delinquency",
            "charged_off_on",
            "closed_through",
            "last_payment_on",
            "limitation_on",
            "instalments",
            "created_at",
        ]
        read_only_fields = fields


class InstalmentInputSerializer(serializers.Serializer):
    due_on = serializers.DateField()
    principal = money(min_value=0)
    interest = money(min_value=0, default=Decimal("0.00"))


class DebtPlacementSerializer(serializers.Serializer):
    """``POST debts/``: the input of ``cases.services.placement.place_debt``."""

    creditor = VisibleRelatedField(access=creditors_for, queryset=Creditor.objects.none())
    product = VisibleRelatedField(access=products_for, queryset=Product.objects.none())
    customer = VisibleRelatedField(access=customers_for, queryset=Customer.objects.none())
    account_number = serializers.CharField(max_length=40)
    currency = serializers.CharField(min_length=3, max_length=3)
    opened_on = serializers.DateField()
    instalments = InstalmentInputSerializer(many=True, allow_empty=False)


class LedgerEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "effective_on",
            "component",
            "amount",
            "kind",
            "source",
            "instalment",
            "payment",
            "reason",
            "created_at",
        ]
        read_only_fields = fields
        extra_kwargs = {"amount": {"help_text": _("Signed: charges +, payments −.")}}


# -- payments -------------------------------------------------------------------


class PaymentSerializer(serializers.ModelSerializer):
    allocation = serializers.DictField(
        child=money(),
        read_only=True,
        help_text=_("Amount per component the payment went to."),
    )

    class Meta:
        model = Payment
        fields = [
            "id",
            "debt",
            "amount",
            "currency",
            "received_on",
            "channel",
            "reference",
            "idempotency_key",
            "status",
            "allocation",
            "reversed_on",
            "reversal_reason",
            "created_at",
        ]
        read_only_fields = fields


class PaymentPostSerializer(serializers.Serializer):
    """``POST payments/``: the input of ``cases.services.payments.post_payment``."""

    debt = VisibleRelatedField(access=debts_for, queryset=Debt.objects.none())
    amount = money()
    currency = serializers.CharField(
        min_length=3,
        max_length=3,
        required=False,
        help_text=_("Must be the debt's currency; the debt's when left out."),
    )
    received_on = serializers.DateField(validators=[not_in_future])
    channel = serializers.ChoiceField(choices=Payment.Channel.choices, default=Payment.Channel.BANK_TRANSFER)
    reference = serializers.CharField(max_length=100, help_text=_("External reference; unique."))

    def validate_amount(self, value):
        if value <= 0:
            raise serializers.ValidationError(_("Amount must be greater than zero."))
        return value


class PaymentReversalSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255)
    reversed_on = serializers.DateField(
        required=False, validators=[not_in_future], help_text=_("Today when left out.")
    )


# -- cases ------------------------------------------------------------------------


class CollectionCaseSerializer(serializers.ModelSerializer):
    debts = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    holds = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = CollectionCase
        fields = [
            "id",
            "customer",
            "debts",
            "stage",
            "assigned_to",
            "team",
            "priority",
            "priority_reasons",
            "risk_score",
            "holds",
            "next_action_on",
            "opened_on",
            "closed_on",
            "created_at",
        ]
        read_only_fields = fields

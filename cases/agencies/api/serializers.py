"""``agencies/`` and ``agency-placements/`` as the API shows them.

Output serializers are read-only views. Input serializers check the shape
and that every id names a row the user may see; the services decide the
rest (400 bad input, 409 conflicts with state).
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from backoffice.access import agencies_for, cases_for, products_for
from backoffice.api import PlainDecimalField, VisibleRelatedField, money, named_choice, reason_field
from cases.agencies.models import Agency, AgencyPlacement
from cases.models import CollectionCase, Product

RATE = {"max_digits": 5, "decimal_places": 2, "min_value": 0, "max_value": 100}


class CommissionRateSerializer(serializers.Serializer):
    bucket = serializers.CharField(max_length=8, help_text=_("Ageing bucket: M1 … M6+ (RULES §1)."))
    rate_percent = PlainDecimalField(**RATE, help_text=_("Commission, percent of money collected."))


class AgencySerializer(serializers.ModelSerializer):
    """Writes replace the commission rates when ``commission_rates`` is sent."""

    commission_rates = CommissionRateSerializer(many=True, required=False)
    reason = reason_field(write_only=True, required=False, default="changed through the API")

    class Meta:
        model = Agency
        fields = [
            "id",
            "name",
            "licence_number",
            "contact_name",
            "phone",
            "email",
            "address",
            "active",
            "commission_rates",
            "reason",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]

    def validate_commission_rates(self, value):
        buckets = [row["bucket"] for row in value]
        if len(set(buckets)) != len(buckets):
            raise serializers.ValidationError(_("A bucket appears twice."))
        return value


class AgencyPlacementSerializer(serializers.ModelSerializer):
    status = named_choice("AgencyPlacementStatusEnum", AgencyPlacement.Status.choices, read_only=True)
    recall_reason = named_choice(
        "AgencyRecallReasonEnum", AgencyPlacement.RecallReason.choices, read_only=True
    )

    class Meta:
        model = AgencyPlacement
        fields = [
            "id",
            "agency",
            "case",
            "start_on",
            "end_on",
            "status",
            "bucket",
            "balance_at_placement",
            "currency",
            "commission_rate",
            "instructions",
            "share_contact_history",
            "placed_by",
            "placed_at",
            "closed_on",
            "recall_reason",
            "recall_note",
            "recalled_by",
            "recalled_at",
        ]
        read_only_fields = fields


class PlacementRuleSerializer(serializers.Serializer):
    buckets = serializers.ListField(child=serializers.CharField(max_length=8), required=False, default=list)
    min_balance = money(required=False, allow_null=True)
    max_balance = money(required=False, allow_null=True)
    regions = serializers.ListField(child=serializers.CharField(max_length=60), required=False, default=list)
    products = serializers.ListField(
        child=VisibleRelatedField(access=products_for, queryset=Product.objects.none()),
        required=False,
        default=list,
    )


class PlaceSerializer(serializers.Serializer):
    """Place ``cases`` (ids) or every eligible case matching ``rule``."""

    agency = VisibleRelatedField(access=agencies_for, queryset=Agency.objects.none())
    cases = serializers.ListField(
        child=VisibleRelatedField(access=cases_for, queryset=CollectionCase.objects.none()),
        required=False,
        allow_empty=False,
    )
    rule = PlacementRuleSerializer(required=False)
    start_on = serializers.DateField()
    end_on = serializers.DateField()
    instructions = serializers.CharField(required=False, allow_blank=True, default="")
    share_contact_history = serializers.BooleanField(required=False, default=False)
    reason = reason_field()

    def validate(self, attrs):
        if bool(attrs.get("cases")) == bool(attrs.get("rule")):
            raise serializers.ValidationError({"cases": _("Give either cases or a rule.")})
        return attrs


class RecallSerializer(serializers.Serializer):
    reason = reason_field()
    on = serializers.DateField(required=False, help_text=_("The agency's last day (default: today)."))

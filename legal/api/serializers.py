"""Legal matters as the API shows them (DESIGN.md, Contracts: ``legal/…``).

Output serializers are read-only views of the rows. Input serializers check
the shape of a request and that every id names a row the user may see
(``VisibleRelatedField`` over ``legal.access``); the services in
``legal.services`` decide the rest (400 bad input, 409 conflicts).
"""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from backoffice.api import VisibleRelatedField, money, named_choice, reason_field
from cases.models import CollectionCase, Debt
from legal.access import matters_for, referable_cases_for, referable_debts_for
from legal.models import (
    Attorney,
    Court,
    Deadline,
    Filing,
    Hearing,
    Judgment,
    LawFirm,
    LegalCost,
    LegalMatter,
)
from legal.selectors import matter_timeline
from legal.services import allowed_next

User = get_user_model()

STAGE = ("LegalStageEnum", LegalMatter.Stage.choices)
OUTCOME = ("LegalOutcomeEnum", LegalMatter.Outcome.choices)
FILING_KIND = ("FilingKindEnum", Filing.Kind.choices)
DEADLINE_KIND = ("DeadlineKindEnum", Deadline.Kind.choices)
COST_KIND = ("LegalCostKindEnum", LegalCost.Kind.choices)


def _all(model):
    return lambda user: model.objects.all()


def matter_debts_for(user):
    """Debts that are part of a matter the user sees."""
    return Debt.objects.filter(
        pk__in=LegalMatter.debts.through.objects.filter(
            legalmatter__in=matters_for(user).values("pk")
        ).values("debt_id")
    )


def matter_field(**kwargs):
    return VisibleRelatedField(access=matters_for, queryset=LegalMatter.objects.none(), **kwargs)


# --- output ---------------------------------------------------------------------------------


class JudgmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Judgment
        fields = ["amount", "interest", "costs_awarded", "judged_on", "served_on", "effective_on"]
        read_only_fields = fields


class TimelineItemSerializer(serializers.Serializer):
    on = serializers.DateField()
    kind = serializers.CharField()
    title = serializers.CharField()
    detail = serializers.CharField()


class MatterSerializer(serializers.ModelSerializer):
    stage = named_choice(*STAGE, read_only=True)
    outcome = named_choice(*OUTCOME, read_only=True)
    allowed_next = serializers.SerializerMethodField()
    judgment = serializers.SerializerMethodField()

    class Meta:
        model = LegalMatter
        fields = [
            "id",
            "case",
            "debts",
            "court",
            "case_number",
            "law_firm",
            "attorney",
            "claim_amount",
            "currency",
            "stage",
            "allowed_next",
            "outcome",
            "assigned_to",
            "referred_on",
            "stage_changed_on",
            "closed_on",
            "judgment",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=named_choice(*STAGE)))
    def get_allowed_next(self, obj) -> list[str]:
        return list(allowed_next(obj.stage))

    @extend_schema_field(JudgmentSerializer(allow_null=True))
    def get_judgment(self, obj):
        judgment = getattr(obj, "judgment", None) if hasattr(obj, "judgment") else None
        return JudgmentSerializer(judgment).data if judgment is not None else None


class MatterDetailSerializer(MatterSerializer):
    timeline = serializers.SerializerMethodField()

    class Meta(MatterSerializer.Meta):
        fields = [*MatterSerializer.Meta.fields, "timeline"]
        read_only_fields = fields

    @extend_schema_field(TimelineItemSerializer(many=True))
    def get_timeline(self, obj) -> list[dict]:
        return [item.as_dict() for item in matter_timeline(obj)]


class FilingSerializer(serializers.ModelSerializer):
    kind = named_choice(*FILING_KIND, read_only=True)

    class Meta:
        model = Filing
        fields = ["id", "matter", "kind", "filed_on", "court_reference", "document", "note", "created_at"]
        read_only_fields = fields


class HearingSerializer(serializers.ModelSerializer):
    class Meta:
        model = Hearing
        fields = ["id", "matter", "starts_at", "court_room", "judge", "result"]
        read_only_fields = fields


class DeadlineSerializer(serializers.ModelSerializer):
    kind = named_choice(*DEADLINE_KIND, read_only=True)
    reminders = serializers.ListField(child=serializers.DateField(), read_only=True)
    reminded_on = serializers.ListField(child=serializers.DateField(), read_only=True)

    class Meta:
        model = Deadline
        fields = [
            "id",
            "matter",
            "kind",
            "title",
            "due_on",
            "computed",
            "source",
            "hearing",
            "reminders",
            "reminded_on",
            "done",
            "done_on",
        ]
        read_only_fields = fields


class LegalCostSerializer(serializers.ModelSerializer):
    kind = named_choice(*COST_KIND, read_only=True)

    class Meta:
        model = LegalCost
        fields = [
            "id",
            "matter",
            "debt",
            "kind",
            "amount",
            "incurred_on",
            "ledger_entry",
            "note",
            "created_at",
        ]
        read_only_fields = fields


# --- input ----------------------------------------------------------------------------------


class ReferralSerializer(serializers.Serializer):
    case = VisibleRelatedField(access=referable_cases_for, queryset=CollectionCase.objects.none())
    debts = serializers.ListField(
        child=VisibleRelatedField(access=referable_debts_for, queryset=Debt.objects.none()), allow_empty=False
    )
    court = VisibleRelatedField(
        access=_all(Court), queryset=Court.objects.none(), required=False, allow_null=True
    )
    case_number = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    law_firm = VisibleRelatedField(
        access=_all(LawFirm), queryset=LawFirm.objects.none(), required=False, allow_null=True
    )
    attorney = VisibleRelatedField(
        access=_all(Attorney), queryset=Attorney.objects.none(), required=False, allow_null=True
    )
    claim_amount = money()
    assigned_to = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )
    on = serializers.DateField(required=False, help_text=_("Today when left out."))
    reason = reason_field(required=False, default="referred to legal")


class TransitionSerializer(serializers.Serializer):
    stage = named_choice(*STAGE)
    on = serializers.DateField(required=False, help_text=_("Today when left out."))
    reason = reason_field()
    document = serializers.FileField(required=False, allow_null=True)
    outcome = named_choice(*OUTCOME, required=False, allow_blank=True, default="")
    amount = money(required=False, allow_null=True, help_text=_("Judgment amount (stage judgment)."))
    interest = money(required=False, allow_null=True)
    costs_awarded = money(required=False, allow_null=True)
    judged_on = serializers.DateField(required=False, allow_null=True)
    served_on = serializers.DateField(required=False, allow_null=True)
    effective_on = serializers.DateField(required=False, allow_null=True)


class FilingCreateSerializer(serializers.Serializer):
    matter = matter_field()
    kind = named_choice(*FILING_KIND)
    filed_on = serializers.DateField()
    court_reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    document = serializers.FileField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    reason = reason_field(required=False, default="filing recorded")


class HearingCreateSerializer(serializers.Serializer):
    matter = matter_field()
    starts_at = serializers.DateTimeField()
    court_room = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    judge = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    reason = reason_field(required=False, default="hearing scheduled")


class HearingUpdateSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField(required=False)
    court_room = serializers.CharField(max_length=60, required=False, allow_blank=True)
    judge = serializers.CharField(max_length=120, required=False, allow_blank=True)
    result = serializers.CharField(required=False, allow_blank=True)
    reason = reason_field(required=False, default="hearing updated")


class DeadlineCreateSerializer(serializers.Serializer):
    matter = matter_field()
    kind = named_choice(*DEADLINE_KIND)
    due_on = serializers.DateField()
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    reminders = serializers.ListField(
        child=serializers.DateField(), required=False, help_text=_("Default: T−7, T−1 and T.")
    )
    reason = reason_field(required=False, default="deadline added")


class DeadlineUpdateSerializer(serializers.Serializer):
    due_on = serializers.DateField(required=False)
    reminders = serializers.ListField(child=serializers.DateField(), required=False)
    done = serializers.BooleanField(required=False)
    reason = reason_field(required=False, default="deadline updated")


class LegalCostCreateSerializer(serializers.Serializer):
    matter = matter_field()
    debt = VisibleRelatedField(access=matter_debts_for, queryset=Debt.objects.none())
    kind = named_choice(*COST_KIND)
    amount = money()
    incurred_on = serializers.DateField()
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    reason = reason_field(required=False, default="")

"""Collection work as the API shows it: teams, case actions, the queue,
contacts, promises, plans, settlements and disputes (DESIGN.md, Contracts;
RULES.md §3–§5).

Output serializers are read-only views of the rows. Input serializers only
check the shape of a request and that every id in it names a row the user
may see (``VisibleRelatedField``); the services decide the rest and answer
400 (bad input) or 409 (conflicts with state) themselves.
"""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from backoffice.access import (
    cases_for,
    contact_points_for,
    contacts_for,
    debts_for,
    teams_for,
    third_parties_for,
)
from backoffice.api import (
    PlainDecimalField,
    VisibleRelatedField,
    money,
    named_choice,
    reason_field,
    request_user,
)
from backoffice.audit import record
from cases.api.serializers import CollectionCaseSerializer
from cases.models import (
    CollectionCase,
    ContactAttempt,
    Debt,
    Dispute,
    Hold,
    PaymentPlan,
    PlanInstalment,
    PromiseToPay,
    Settlement,
    Team,
)
from cases.selectors.work import case_timeline
from customers.models import ContactPoint, ThirdPartyContact

User = get_user_model()

TIMELINE_LIMIT = 100


CONTACT_CHANNEL = ("ContactChannelEnum", ContactAttempt.Channel.choices)
CONTACT_OUTCOME = ("ContactOutcomeEnum", ContactAttempt.Outcome.choices)
LOGGED_OUTCOME = (
    "LoggedContactOutcomeEnum",
    [c for c in ContactAttempt.Outcome.choices if c[0] != ContactAttempt.Outcome.REFUSED],
)
DISPUTE_OUTCOME = ("DisputeOutcomeEnum", Dispute.Outcome.choices)
DISPUTE_RESULT = ("DisputeResultEnum", [("", "open"), *Dispute.Outcome.choices])


def active_users():
    # backoffice.access has no function for users yet; the services check
    # who may take work (assign_cases) on the row they are given.
    return User.objects.filter(is_active=True)


# -- teams ------------------------------------------------------------------------


class TeamSerializer(serializers.ModelSerializer):
    """A team of collectors. Written by supervisors and administrators."""

    lead = serializers.PrimaryKeyRelatedField(queryset=active_users(), allow_null=True, required=False)
    members = serializers.PrimaryKeyRelatedField(
        queryset=active_users(), many=True, required=False, help_text=_("User ids.")
    )

    class Meta:
        model = Team
        fields = ["id", "name", "lead", "members"]

    def create(self, validated_data):
        members = validated_data.pop("members", [])
        team = record(Team(**validated_data), actor=request_user(self), reason="team created through the API")
        team.save()
        team.members.set(members)
        return team

    def update(self, instance, validated_data):
        members = validated_data.pop("members", None)
        for name, value in validated_data.items():
            setattr(instance, name, value)
        record(instance, actor=request_user(self), reason="team changed through the API")
        instance.save()
        if members is not None:
            instance.members.set(members)
        return instance


# -- cases ------------------------------------------------------------------------


class TimelineEventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.ChoiceField(
        choices=["contact", "payment", "promise", "assignment", "stage", "dispute", "plan", "settlement"]
    )
    summary = serializers.CharField()
    actor = serializers.IntegerField(source="actor.pk", allow_null=True, help_text=_("User id."))
    actor_name = serializers.CharField(source="actor.username", allow_null=True)


class CaseDetailSerializer(CollectionCaseSerializer):
    """A case with its story, newest first (at most 100 events)."""

    timeline = serializers.SerializerMethodField()

    class Meta(CollectionCaseSerializer.Meta):
        fields = [*CollectionCaseSerializer.Meta.fields, "timeline"]
        read_only_fields = fields

    @extend_schema_field(TimelineEventSerializer(many=True))
    def get_timeline(self, case):
        request = self.context.get("request")
        user = request.user if request is not None else None
        return TimelineEventSerializer(case_timeline(case, limit=TIMELINE_LIMIT, user=user), many=True).data


class QueueCaseSerializer(serializers.ModelSerializer):
    """One row of "My queue": what to work next and why."""

    customer_name = serializers.CharField(source="customer.name", read_only=True)
    total_balance = money(read_only=True, help_text=_("Balance of the case's still-collectible debts."))
    worst_dpd = serializers.IntegerField(read_only=True, help_text=_("Worst days past due."))
    promise_due_today = serializers.BooleanField(read_only=True)
    callback_due = serializers.BooleanField(read_only=True)
    holds = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = CollectionCase
        fields = [
            "id",
            "customer",
            "customer_name",
            "stage",
            "team",
            "priority",
            "priority_reasons",
            "next_action_on",
            "holds",
            "total_balance",
            "worst_dpd",
            "promise_due_today",
            "callback_due",
        ]
        read_only_fields = fields


class AssignSerializer(serializers.Serializer):
    """``POST cases/{id}/assign/``: a collector, a team, or both."""

    collector = serializers.PrimaryKeyRelatedField(
        queryset=active_users(), required=False, allow_null=True, help_text=_("User id.")
    )
    team = VisibleRelatedField(
        access=teams_for, queryset=Team.objects.none(), required=False, allow_null=True
    )
    reason = reason_field()

    def validate(self, attrs):
        if attrs.get("collector") is None and attrs.get("team") is None:
            raise serializers.ValidationError({"collector": [_("Choose a collector or a team.")]})
        return attrs


class AssignmentResultSerializer(serializers.Serializer):
    assigned = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    skipped = serializers.IntegerField()
    messages = serializers.ListField(child=serializers.CharField())


class StageChangeSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=CollectionCase.Stage.choices)
    reason = reason_field()


class HoldSerializer(serializers.Serializer):
    hold = serializers.ChoiceField(choices=Hold.choices)
    reason = reason_field()


# -- contacts -----------------------------------------------------------------------


class ContactTargetSerializer(serializers.Serializer):
    """Who is contacted, how: shared by ``contacts/check/`` and ``contacts/``."""

    case = VisibleRelatedField(access=cases_for, queryset=CollectionCase.objects.none())
    party = serializers.ChoiceField(choices=ContactAttempt.Party.choices, default=ContactAttempt.Party.DEBTOR)
    contact_point = VisibleRelatedField(
        access=contact_points_for, queryset=ContactPoint.objects.none(), required=False, allow_null=True
    )
    third_party = VisibleRelatedField(
        access=third_parties_for,
        queryset=ThirdPartyContact.objects.none(),
        required=False,
        allow_null=True,
        help_text=_("Required when the party is a third party."),
    )
    channel = named_choice(*CONTACT_CHANNEL)


class ContactCheckSerializer(ContactTargetSerializer):
    at = serializers.DateTimeField(required=False, help_text=_("Now when left out."))


class ContactDecisionSerializer(serializers.Serializer):
    allowed = serializers.BooleanField()
    rules = serializers.ListField(child=serializers.CharField(), help_text=_("RULES §4 IDs that refuse."))
    reason = serializers.CharField(allow_blank=True)
    next_allowed_at = serializers.DateTimeField(allow_null=True)
    advisories = serializers.ListField(
        child=serializers.CharField(), help_text=_("Rules in advise mode that would refuse (US first party).")
    )
    requires_disclosure = serializers.BooleanField(
        help_text=_("A letter must carry the time-barred disclosure.")
    )
    calls_left_today = serializers.IntegerField(
        allow_null=True, help_text=_("Calls the caps still allow (null: no cap applies).")
    )


class ContactLogSerializer(ContactTargetSerializer):
    """``POST contacts/``: the input of ``cases.services.contacts.log_contact``."""

    started_at = serializers.DateTimeField(required=False, help_text=_("Now when left out."))
    outcome = named_choice(
        *LOGGED_OUTCOME, help_text=_("``refused`` is set by the contact rules, never sent.")
    )
    direction = serializers.ChoiceField(
        choices=ContactAttempt.Direction.choices, default=ContactAttempt.Direction.OUTBOUND
    )
    debt = VisibleRelatedField(
        access=debts_for, queryset=Debt.objects.none(), required=False, allow_null=True
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")
    duration_s = serializers.IntegerField(min_value=0, default=0)
    callback_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text=_("Required with outcome ``callback``.")
    )


class ContactAttemptSerializer(serializers.ModelSerializer):
    channel = named_choice(*CONTACT_CHANNEL, read_only=True)
    outcome = named_choice(*CONTACT_OUTCOME, read_only=True)

    class Meta:
        model = ContactAttempt
        fields = [
            "id",
            "case",
            "debt",
            "party",
            "contact_point",
            "third_party",
            "channel",
            "direction",
            "outcome",
            "note",
            "duration_s",
            "started_at",
            "callback_at",
            "rules",
            "refusal_reason",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class ContactRefusedSerializer(serializers.Serializer):
    """The 409 body of a refused attempt (which is stored, outcome ``refused``)."""

    rules = serializers.ListField(child=serializers.CharField())
    reason = serializers.CharField()
    next_allowed_at = serializers.DateTimeField(allow_null=True)
    attempt = serializers.IntegerField(help_text=_("The stored refused attempt."))


# -- promises ---------------------------------------------------------------------------


class PromiseSerializer(serializers.ModelSerializer):
    class Meta:
        model = PromiseToPay
        fields = [
            "id",
            "case",
            "debt",
            "contact",
            "amount",
            "due_on",
            "status",
            "paid_amount",
            "settled_on",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class PromiseCreateSerializer(serializers.Serializer):
    case = VisibleRelatedField(access=cases_for, queryset=CollectionCase.objects.none())
    debt = VisibleRelatedField(
        access=debts_for, queryset=Debt.objects.none(), required=False, allow_null=True
    )
    amount = money()
    due_on = serializers.DateField()
    contact = VisibleRelatedField(
        access=contacts_for,
        queryset=ContactAttempt.objects.none(),
        required=False,
        allow_null=True,
        help_text=_("The contact attempt in which the promise was made."),
    )


class CancelSerializer(serializers.Serializer):
    reason = reason_field()


# -- plans -------------------------------------------------------------------------------


class PlanInstalmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlanInstalment
        fields = ["number", "due_on", "amount", "paid_amount", "status"]
        read_only_fields = fields


class PlanSerializer(serializers.ModelSerializer):
    instalments = PlanInstalmentSerializer(many=True, read_only=True)

    class Meta:
        model = PaymentPlan
        fields = [
            "id",
            "case",
            "debt",
            "total",
            "status",
            "missed_count",
            "instalments",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class PlanInstalmentInputSerializer(serializers.Serializer):
    due_on = serializers.DateField()
    amount = money()


class PlanCreateSerializer(serializers.Serializer):
    case = VisibleRelatedField(access=cases_for, queryset=CollectionCase.objects.none())
    debt = VisibleRelatedField(access=debts_for, queryset=Debt.objects.none())
    total = money(help_text=_("The agreed total; the instalments add up to it exactly."))
    instalments = PlanInstalmentInputSerializer(many=True, allow_empty=False)


# -- settlements ---------------------------------------------------------------------------


class SettlementSerializer(serializers.ModelSerializer):
    class Meta:
        model = Settlement
        fields = [
            "id",
            "case",
            "debt",
            "balance_at_offer",
            "discount_percent",
            "amount",
            "valid_until",
            "status",
            "paid_amount",
            "requested_by",
            "approved_by",
            "decision_reason",
            "decided_at",
            "completed_on",
            "created_at",
        ]
        read_only_fields = fields


class SettlementCreateSerializer(serializers.Serializer):
    case = VisibleRelatedField(access=cases_for, queryset=CollectionCase.objects.none())
    debt = VisibleRelatedField(access=debts_for, queryset=Debt.objects.none())
    discount_percent = PlainDecimalField(
        max_digits=5, decimal_places=2, help_text=_("More than 0 and less than 100.")
    )
    valid_until = serializers.DateField()


class DecisionSerializer(serializers.Serializer):
    reason = reason_field()


# -- disputes ----------------------------------------------------------------------------------


class DisputeSerializer(serializers.ModelSerializer):
    outcome = named_choice(*DISPUTE_RESULT, read_only=True, help_text=_("Blank while open."))
    bureau_compliance_code = serializers.CharField(
        read_only=True, help_text=_("Metro 2 compliance condition: XB open, XC disagrees, XH resolved.")
    )

    class Meta:
        model = Dispute
        fields = [
            "id",
            "case",
            "debt",
            "raised_via",
            "reason",
            "opened_on",
            "due_on",
            "status",
            "outcome",
            "resolution_note",
            "verification_sent_on",
            "consumer_disagrees",
            "resolved_on",
            "bureau_compliance_code",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class DisputeCreateSerializer(serializers.Serializer):
    case = VisibleRelatedField(access=cases_for, queryset=CollectionCase.objects.none())
    debt = VisibleRelatedField(
        access=debts_for, queryset=Debt.objects.none(), required=False, allow_null=True
    )
    raised_via = serializers.ChoiceField(choices=Dispute.Via.choices)
    reason = serializers.CharField(help_text=_("What the consumer disputes."))
    opened_on = serializers.DateField(required=False, help_text=_("Today when left out."))


class DisputeResolveSerializer(serializers.Serializer):
    outcome = named_choice(*DISPUTE_OUTCOME)
    resolved_on = serializers.DateField(required=False, help_text=_("Today when left out."))
    reason = reason_field(help_text=_("The resolution note (at most 100 characters)."))
    consumer_disagrees = serializers.BooleanField(default=False)
    verification_sent_on = serializers.DateField(required=False, allow_null=True)

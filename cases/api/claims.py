"""``payment-claims/``: money reported by staff, approved by a second person
(DESIGN.md contracts, issue #14).

``POST`` (JSON, or multipart with an ``evidence`` file) records a pending
claim through ``cases.services.claims.submit_claim``; ``approve/`` posts it
through the same path as ``payments/``; ``reject/`` closes it with a reason.
Rows come from ``backoffice.access.payment_claims_for``; a claim the user
cannot see is a 404. Claims change only through those actions (no
``PUT``/``PATCH``/``DELETE``).
"""

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from backoffice.access import debts_for, payment_claims_for
from backoffice.api import BAD_INPUT, ModelPermissions, VisibleRelatedField, money, reason_field
from cases.api.serializers import not_in_future
from cases.models import Debt, Payment, PaymentClaim
from cases.services.claims import approve_claim, reject_claim, submit_claim


class PaymentClaimSerializer(serializers.ModelSerializer):
    has_evidence = serializers.SerializerMethodField(help_text=_("Whether a receipt file is attached."))

    class Meta:
        model = PaymentClaim
        fields = [
            "id",
            "debt",
            "amount",
            "currency",
            "received_on",
            "channel",
            "reference",
            "has_evidence",
            "status",
            "claimed_by",
            "decided_by",
            "decided_at",
            "reject_reason",
            "payment",
            "created_at",
        ]
        read_only_fields = fields

    def get_has_evidence(self, obj) -> bool:
        return bool(obj.evidence)


class PaymentClaimCreateSerializer(serializers.Serializer):
    """``POST payment-claims/``: the input of ``submit_claim``."""

    debt = VisibleRelatedField(access=debts_for, queryset=Debt.objects.none())
    # ``money()`` reads the amount as typed: "1e3" or " 1000" are refused
    # (400), never read as 1000.00; ``submit_claim`` checks again.
    amount = money(help_text=_('A plain decimal with at most two places, e.g. "1413.50".'))
    received_on = serializers.DateField(validators=[not_in_future])
    channel = serializers.ChoiceField(choices=Payment.Channel.choices)
    reference = serializers.CharField(max_length=100, help_text=_("External reference of the payment."))
    evidence = serializers.FileField(
        required=False,
        allow_null=True,
        help_text=_("Optional receipt: PDF, PNG or JPEG, size bounded by the server."),
    )


class ClaimApprovalSerializer(serializers.Serializer):
    reason = reason_field(required=False, default="payment claim approved")


class ClaimRejectionSerializer(serializers.Serializer):
    reason = reason_field(help_text=_("Why the claim is rejected; the claimant reads it."))


class PaymentClaimFilter(django_filters.FilterSet):
    debt = django_filters.NumberFilter(field_name="debt_id")
    status = django_filters.ChoiceFilter(choices=PaymentClaim.Status.choices)
    channel = django_filters.ChoiceFilter(choices=Payment.Channel.choices)


NOT_ALLOWED_OR_DECIDED = OpenApiResponse(
    description=_("Your own claim, or a claim that is not pending (nothing written).")
)


@extend_schema_view(
    create=extend_schema(
        summary="Record a payment claim",
        request={
            "application/json": PaymentClaimCreateSerializer,
            "multipart/form-data": PaymentClaimCreateSerializer,
        },
        responses={201: PaymentClaimSerializer, 400: BAD_INPUT, 409: NOT_ALLOWED_OR_DECIDED},
    ),
    approve=extend_schema(
        summary="Approve a payment claim (posts the payment)",
        request=ClaimApprovalSerializer,
        responses={200: PaymentClaimSerializer, 400: BAD_INPUT, 409: NOT_ALLOWED_OR_DECIDED},
    ),
    reject=extend_schema(
        summary="Reject a payment claim",
        request=ClaimRejectionSerializer,
        responses={200: PaymentClaimSerializer, 400: BAD_INPUT, 409: NOT_ALLOWED_OR_DECIDED},
    ),
)
class PaymentClaimViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Payment claims, newest first. Recording needs ``cases.add_paymentclaim``;
    deciding needs ``cases.approve_payment`` and is never done by the claimant."""

    serializer_class = PaymentClaimSerializer
    permission_classes = [ModelPermissions]
    filterset_class = PaymentClaimFilter
    action_permissions = {"approve": ["cases.approve_payment"], "reject": ["cases.approve_payment"]}

    def get_queryset(self):
        return payment_claims_for(self.request.user).order_by("-created_at", "-id")

    def get_serializer_class(self):
        return {
            "create": PaymentClaimCreateSerializer,
            "approve": ClaimApprovalSerializer,
            "reject": ClaimRejectionSerializer,
        }.get(self.action, PaymentClaimSerializer)

    def create(self, request, *args, **kwargs):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        claim = submit_claim(
            debt=data["debt"],
            amount=data["amount"],
            received_on=data["received_on"],
            channel=data["channel"],
            reference=data["reference"],
            evidence=data.get("evidence"),
            actor=request.user,
            reason="payment claim recorded through the API",
        )
        return Response(PaymentClaimSerializer(claim).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        claim = self.get_object()
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        claim = approve_claim(claim=claim, actor=request.user, reason=body.validated_data["reason"])
        return Response(PaymentClaimSerializer(claim).data)

    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        claim = self.get_object()
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        claim = reject_claim(claim=claim, actor=request.user, reason=body.validated_data["reason"])
        return Response(PaymentClaimSerializer(claim).data)

"""Viewsets for policies, creditors, products, debts, payments and cases.

Thin over the domain: rows come from ``backoffice.access``; placing a debt
and posting or reversing a payment call ``cases.services`` with the acting
user. Debts and payments change only through those services, never by
``PUT``/``PATCH``/``DELETE`` (405).
"""

import django_filters
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from backoffice.access import (
    cases_for,
    creditors_for,
    debts_for,
    ledger_for,
    payments_for,
    policies_for,
    products_for,
)
from backoffice.api import IsAdministratorOrReadOnly, ModelPermissions
from backoffice.errors import Conflict
from backoffice.throttling import PaymentPostingThrottle
from cases.api import serializers as s
from cases.api import work_serializers as w
from cases.api.work_views import ensure_writable
from cases.models import CollectionCase, Debt, Payment
from cases.selectors.work import my_queue
from cases.services.assignment import assign_cases
from cases.services.holds import place_hold, release_hold
from cases.services.payments import post_payment, reverse_payment
from cases.services.placement import place_debt
from cases.services.stages import change_stage

# Configuration is created and changed, never deleted: debts and history
# point at it (PROTECT).
CONFIG_METHODS = ["get", "post", "put", "patch", "head", "options"]
CASE_ACTIONS = frozenset({"assign", "stage", "place_hold", "release_hold"})


class PolicyViewSet(viewsets.ModelViewSet):
    """Collection policies (RULES.md). Administrators write; others read."""

    serializer_class = s.PolicySerializer
    permission_classes = [IsAdministratorOrReadOnly]
    http_method_names = CONFIG_METHODS
    filterset_fields = ["jurisdiction"]

    def get_queryset(self):
        return policies_for(self.request.user).order_by("name")


class CreditorViewSet(viewsets.ModelViewSet):
    """Who we collect for. Administrators write; others read."""

    serializer_class = s.CreditorSerializer
    permission_classes = [IsAdministratorOrReadOnly]
    http_method_names = CONFIG_METHODS

    def get_queryset(self):
        return creditors_for(self.request.user).order_by("name")


class ProductFilter(django_filters.FilterSet):
    creditor = django_filters.NumberFilter(field_name="creditor_id")
    policy = django_filters.NumberFilter(field_name="policy_id")


class ProductViewSet(viewsets.ModelViewSet):
    """Products and the policy each collects under. Administrators write; others read."""

    serializer_class = s.ProductSerializer
    permission_classes = [IsAdministratorOrReadOnly]
    http_method_names = CONFIG_METHODS
    filterset_class = ProductFilter

    def get_queryset(self):
        return products_for(self.request.user).order_by("id")


class DebtFilter(django_filters.FilterSet):
    # Plain ids, not model choices: an id the user may not see simply
    # matches nothing instead of being looked up across all rows.
    status = django_filters.ChoiceFilter(choices=Debt.Status.choices)
    bucket = django_filters.CharFilter()
    customer = django_filters.NumberFilter(field_name="customer_id")
    creditor = django_filters.NumberFilter(field_name="creditor_id")
    product = django_filters.NumberFilter(field_name="product_id")
    case = django_filters.NumberFilter(field_name="case_id")


@extend_schema_view(
    create=extend_schema(
        summary="Place an account",
        request=s.DebtPlacementSerializer,
        responses={201: s.DebtSerializer},
    ),
)
class DebtViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Accounts placed with us. ``POST`` places one (with its schedule and
    principal) and opens or joins the customer's case."""

    serializer_class = s.DebtSerializer
    permission_classes = [ModelPermissions]
    filterset_class = DebtFilter

    def get_queryset(self):
        debts = debts_for(self.request.user).order_by("id")
        if self.action == "ledger":
            return debts
        return debts.prefetch_related("instalments")

    def get_serializer_class(self):
        if self.action == "create":
            return s.DebtPlacementSerializer
        if self.action == "ledger":
            return s.LedgerEntrySerializer
        return s.DebtSerializer

    def create(self, request, *args, **kwargs):
        placement = self.get_serializer(data=request.data)
        placement.is_valid(raise_exception=True)
        data = placement.validated_data
        debt = place_debt(
            creditor=data["creditor"],
            product=data["product"],
            customer=data["customer"],
            account_number=data["account_number"],
            currency=data["currency"],
            opened_on=data["opened_on"],
            instalments=[dict(line) for line in data["instalments"]],
            actor=request.user,
            source="api",
        )
        body = s.DebtSerializer(debt, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Ledger entries of a debt, oldest first", filters=False)
    @action(detail=True, methods=["get"])
    def ledger(self, request, pk=None):
        debt = self.get_object()
        entries = ledger_for(request.user).filter(debt=debt).order_by("effective_on", "id")
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class PaymentFilter(django_filters.FilterSet):
    debt = django_filters.NumberFilter(field_name="debt_id")
    status = django_filters.ChoiceFilter(choices=Payment.Status.choices)
    channel = django_filters.ChoiceFilter(choices=Payment.Channel.choices)
    received_after = django_filters.DateFilter(field_name="received_on", lookup_expr="gte")
    received_before = django_filters.DateFilter(field_name="received_on", lookup_expr="lte")


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=_("Repeating a request with the same key returns the first payment (200)."),
)


@extend_schema_view(
    create=extend_schema(
        summary="Post a payment",
        request=s.PaymentPostSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: s.PaymentSerializer,
            200: OpenApiResponse(s.PaymentSerializer, description=_("A repeat: the first payment.")),
            409: OpenApiResponse(description=_("Reference or key already used for a different payment.")),
        },
    ),
    reverse=extend_schema(
        summary="Reverse a payment",
        request=s.PaymentReversalSerializer,
        responses={200: s.PaymentSerializer, 409: OpenApiResponse(description=_("Already reversed."))},
    ),
)
class PaymentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Money in. Posting is idempotent by ``reference`` and by the
    ``Idempotency-Key`` header: a repeat answers 200 with the first payment.
    Posting has its own, stricter rate (``THROTTLE_PAYMENTS``, issue #14)."""

    serializer_class = s.PaymentSerializer
    permission_classes = [ModelPermissions]
    filterset_class = PaymentFilter
    action_permissions = {"reverse": ["cases.change_payment"]}

    def get_queryset(self):
        return payments_for(self.request.user).order_by("-received_on", "-id")

    def get_throttles(self):
        return [*super().get_throttles(), PaymentPostingThrottle()]

    def get_serializer_class(self):
        if self.action == "create":
            return s.PaymentPostSerializer
        if self.action == "reverse":
            return s.PaymentReversalSerializer
        return s.PaymentSerializer

    def create(self, request, *args, **kwargs):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        key = request.headers.get("Idempotency-Key", "").strip() or None
        if key is not None and len(key) > 200:
            raise serializers.ValidationError({"Idempotency-Key": [_("At most 200 characters.")]})
        result = post_payment(
            debt=data["debt"],
            amount=data["amount"],
            received_on=data["received_on"],
            reference=data["reference"],
            channel=data["channel"],
            currency=data.get("currency"),
            idempotency_key=key,
            actor=request.user,
        )
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(s.PaymentSerializer(result.payment).data, status=code)

    @action(detail=True, methods=["post"])
    def reverse(self, request, pk=None):
        payment = self.get_object()
        if not debts_for(request.user).filter(pk=payment.debt_id).exists():
            raise NotFound()
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        if payment.status == Payment.Status.REVERSED:
            raise Conflict({"payment": [_("This payment is already reversed.")]})
        payment = reverse_payment(
            payment=payment,
            reversed_on=body.validated_data.get("reversed_on") or timezone.localdate(),
            reason=body.validated_data["reason"],
            actor=request.user,
        )
        return Response(s.PaymentSerializer(payment).data)


class ReleasesHolds(permissions.BasePermission):
    """Anyone who may work a case may put a hold on it (RULES §3: a hold
    only stops contact); taking one off needs ``cases.change_collectioncase``."""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("cases.change_collectioncase"))


class CaseFilter(django_filters.FilterSet):
    stage = django_filters.ChoiceFilter(choices=CollectionCase.Stage.choices)
    customer = django_filters.NumberFilter(field_name="customer_id")
    assigned_to = django_filters.NumberFilter(field_name="assigned_to_id")
    team = django_filters.NumberFilter(field_name="team_id")


@extend_schema_view(
    assign=extend_schema(
        summary="Assign the case to a collector or a team",
        request=w.AssignSerializer,
        responses={
            200: w.AssignmentResultSerializer,
            400: OpenApiResponse(description=_("Bad input, per field; nothing written.")),
            409: OpenApiResponse(description=_("You may not assign this case (or to that target).")),
        },
    ),
    stage=extend_schema(
        summary="Move the case to a stage by hand",
        request=w.StageChangeSerializer,
        responses={200: w.CaseDetailSerializer, 409: OpenApiResponse(description=_("Refused."))},
    ),
    place_hold=extend_schema(
        summary="Put a hold on the case",
        request=w.HoldSerializer,
        responses={200: w.CaseDetailSerializer, 409: OpenApiResponse(description=_("Already on it."))},
    ),
    release_hold=extend_schema(
        summary="Take a hold off the case",
        request=w.HoldSerializer,
        responses={200: w.CaseDetailSerializer, 409: OpenApiResponse(description=_("Not on it."))},
    ),
    queue=extend_schema(summary="My queue: my open cases in working order", filters=False),
)
class CollectionCaseViewSet(viewsets.ReadOnlyModelViewSet):
    """Collection cases: one customer, their debts. Cases change only
    through the action routes (assign, stage, holds), each a service call
    with the acting user. Stage and holds need a case the user may work
    (``writable_cases_for``); assignment rights are ``assign_cases``'s to
    decide. A refusal answers 409."""

    serializer_class = s.CollectionCaseSerializer
    filterset_class = CaseFilter

    def get_permissions(self):
        if self.action == "release_hold":
            return [ReleasesHolds()]
        return super().get_permissions()

    def get_queryset(self):
        if self.action in CASE_ACTIONS:
            return cases_for(self.request.user)
        return self._cases_with_visible_debts()

    def _cases_with_visible_debts(self):
        user = self.request.user
        # Only the debts this user may see are listed on a case.
        visible_debts = debts_for(user).only("id", "case_id").order_by("id")
        return cases_for(user).prefetch_related(Prefetch("debts", queryset=visible_debts))

    def get_serializer_class(self):
        return {
            "retrieve": w.CaseDetailSerializer,
            "queue": w.QueueCaseSerializer,
            "assign": w.AssignSerializer,
            "stage": w.StageChangeSerializer,
            "place_hold": w.HoldSerializer,
            "release_hold": w.HoldSerializer,
        }.get(self.action, s.CollectionCaseSerializer)

    def _body(self, request) -> dict:
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        return body.validated_data

    def _case_answer(self, case) -> Response:
        case = self._cases_with_visible_debts().get(pk=case.pk)
        return Response(w.CaseDetailSerializer(case, context=self.get_serializer_context()).data)

    @action(detail=False, methods=["get"])
    def queue(self, request):
        user = request.user
        cases = my_queue(user, today=timezone.localdate()).filter(pk__in=cases_for(user).values("pk"))
        page = self.paginate_queryset(cases)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        case = self.get_object()
        data = self._body(request)
        result = assign_cases(
            cases=[case.pk],
            collector=data.get("collector"),
            team=data.get("team"),
            reason=data["reason"],
            actor=request.user,
        )
        return Response(w.AssignmentResultSerializer(result.as_dict()).data)

    @action(detail=True, methods=["post"])
    def stage(self, request, pk=None):
        case = self.get_object()
        data = self._body(request)
        ensure_writable(request.user, case.pk)
        change_stage(
            case=case,
            stage=data["stage"],
            reason=data["reason"],
            today=timezone.localdate(),
            actor=request.user,
        )
        return self._case_answer(case)

    @action(detail=True, methods=["post"], url_path="holds", url_name="holds")
    def place_hold(self, request, pk=None):
        case = self.get_object()
        data = self._body(request)
        ensure_writable(request.user, case.pk)
        place_hold(case=case, hold=data["hold"], reason=data["reason"], actor=request.user)
        return self._case_answer(case)

    @action(detail=True, methods=["post"], url_path="holds/release", url_name="holds-release")
    def release_hold(self, request, pk=None):
        case = self.get_object()
        data = self._body(request)
        ensure_writable(request.user, case.pk)
        release_hold(case=case, hold=data["hold"], reason=data["reason"], actor=request.user)
        return self._case_answer(case)

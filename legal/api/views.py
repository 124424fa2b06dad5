"""Viewsets for legal matters, filings, hearings, deadlines and costs
(DESIGN.md, Contracts; RULES.md §7).

Thin over the domain: rows come from ``legal.access``; every write calls a
service in ``legal.services`` with ``actor=request.user`` and the business
date (``on``, default ``timezone.localdate()``). Reads are open to any
signed-in user (rows filtered); writes need the model permission named per
action in ``write_permissions`` (the Legal role has ``legal.*``). An id in a
body the user cannot see answers 400, one in the URL 404; the services
answer 409 when the state refuses (a jump in the stage machine, a
time-barred debt, an open dispute…).
"""

import django_filters
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, parsers, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from backoffice.api import method_not_allowed
from backoffice.parsers import BoundedJSONParser
from legal import services
from legal.access import deadlines_for, filings_for, hearings_for, legal_costs_for, matters_for
from legal.api import serializers as s
from legal.models import Deadline, Filing, Hearing, LegalCost, LegalMatter

REFUSED = OpenApiResponse(description=_("Refused: conflicts with the state of the matter; names the check."))
BAD_INPUT = OpenApiResponse(description=_("Bad input, per field; nothing written."))
PARSERS = [BoundedJSONParser, parsers.MultiPartParser, parsers.FormParser]


class LegalWork(permissions.BasePermission):
    """Reads for any signed-in user (rows filtered by ``legal.access``).
    Writes for superusers and holders of every permission the view lists for
    the action in ``write_permissions``."""

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if request.method in permissions.SAFE_METHODS or method_not_allowed(request, view):
            return True
        if user.is_superuser:
            return True
        required = getattr(view, "write_permissions", {}).get(getattr(view, "action", None))
        return required is not None and user.has_perms(required)


class LegalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [LegalWork]
    parser_classes = PARSERS
    http_method_names = ["get", "post", "head", "options"]
    output_serializer = None
    input_serializers: dict = {}
    write_permissions: dict = {}

    def get_serializer_class(self):
        return self.input_serializers.get(self.action, self.output_serializer)

    def read_body(self, request, *, partial: bool = False) -> dict:
        body = self.get_serializer(data=request.data, partial=partial)
        body.is_valid(raise_exception=True)
        return body.validated_data

    def answer(self, row, code=status.HTTP_200_OK, serializer=None) -> Response:
        serializer = serializer or self.output_serializer
        return Response(serializer(row, context=self.get_serializer_context()).data, status=code)


class MatterFilter(django_filters.FilterSet):
    case = django_filters.NumberFilter(field_name="case_id")
    stage = django_filters.ChoiceFilter(choices=LegalMatter.Stage.choices)

    class Meta:
        model = LegalMatter
        fields = ["case", "stage"]


class ByMatter(django_filters.FilterSet):
    """``?matter=``: only that matter's rows (among those the user sees)."""

    matter = django_filters.NumberFilter(field_name="matter_id")


class FilingFilter(ByMatter):
    class Meta:
        model = Filing
        fields = ["matter"]


class HearingFilter(ByMatter):
    class Meta:
        model = Hearing
        fields = ["matter"]


class DeadlineFilter(ByMatter):
    class Meta:
        model = Deadline
        fields = ["matter", "kind", "done"]


class LegalCostFilter(ByMatter):
    class Meta:
        model = LegalCost
        fields = ["matter", "debt"]


@extend_schema_view(
    create=extend_schema(
        summary="Refer a case to legal (opens a matter at demand_letter)",
        request=s.ReferralSerializer,
        responses={201: s.MatterDetailSerializer, 400: BAD_INPUT, 409: REFUSED},
    ),
    transition=extend_schema(
        summary="Move a matter along the stage machine (RULES §7)",
        request=s.TransitionSerializer,
        responses={200: s.MatterDetailSerializer, 400: BAD_INPUT, 409: REFUSED},
    ),
    retrieve=extend_schema(responses=s.MatterDetailSerializer),
)
class MatterViewSet(mixins.CreateModelMixin, LegalViewSet):
    """Legal matters, newest referral first; the detail carries the timeline."""

    output_serializer = s.MatterSerializer
    input_serializers = {"create": s.ReferralSerializer, "transition": s.TransitionSerializer}
    filterset_class = MatterFilter
    write_permissions = {"create": ["legal.add_legalmatter"], "transition": ["legal.change_legalmatter"]}

    def get_queryset(self):
        return (
            matters_for(self.request.user)
            .select_related("judgment")
            .prefetch_related("debts")
            .order_by("-referred_on", "-id")
        )

    def get_serializer_class(self):
        if self.action == "retrieve":
            return s.MatterDetailSerializer
        return super().get_serializer_class()

    def create(self, request, *args, **kwargs):
        data = self.read_body(request)
        matter = services.refer_to_legal(
            case=data["case"],
            debts=data["debts"],
            court=data.get("court"),
            case_number=data.get("case_number", ""),
            law_firm=data.get("law_firm"),
            attorney=data.get("attorney"),
            claim_amount=data["claim_amount"],
            assigned_to=data.get("assigned_to"),
            actor=request.user,
            reason=data["reason"],
            on=data.get("on") or timezone.localdate(),
        )
        return self.answer(matter, status.HTTP_201_CREATED, s.MatterDetailSerializer)

    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        matter = self.get_object()
        data = self.read_body(request)
        moved = services.transition_matter(
            matter=matter,
            stage=data["stage"],
            on=data.get("on") or timezone.localdate(),
            actor=request.user,
            reason=data["reason"],
            document=data.get("document"),
            outcome=data.get("outcome", ""),
            amount=data.get("amount"),
            interest=data.get("interest"),
            costs_awarded=data.get("costs_awarded"),
            judged_on=data.get("judged_on"),
            served_on=data.get("served_on"),
            effective_on=data.get("effective_on"),
        )
        return self.answer(LegalMatter.objects.get(pk=moved.pk), serializer=s.MatterDetailSerializer)


MATTER_PARAM = OpenApiParameter("matter", int, description=_("Only this matter's rows."))


@extend_schema_view(
    list=extend_schema(parameters=[MATTER_PARAM]),
    create=extend_schema(
        summary="Record a filing (multipart for the document)",
        request=s.FilingCreateSerializer,
        responses={201: s.FilingSerializer, 400: BAD_INPUT, 409: REFUSED},
    ),
)
class FilingViewSet(mixins.CreateModelMixin, LegalViewSet):
    output_serializer = s.FilingSerializer
    input_serializers = {"create": s.FilingCreateSerializer}
    filterset_class = FilingFilter
    write_permissions = {"create": ["legal.add_filing"]}

    def get_queryset(self):
        return filings_for(self.request.user).order_by("filed_on", "id")

    def create(self, request, *args, **kwargs):
        data = self.read_body(request)
        filing = services.add_filing(
            matter=data["matter"],
            kind=data["kind"],
            filed_on=data["filed_on"],
            court_reference=data.get("court_reference", ""),
            document=data.get("document"),
            note=data.get("note", ""),
            actor=request.user,
            reason=data["reason"],
        )
        return self.answer(filing, status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(parameters=[MATTER_PARAM]),
    create=extend_schema(
        summary="Schedule a hearing (adds its deadline)",
        request=s.HearingCreateSerializer,
        responses={201: s.HearingSerializer, 400: BAD_INPUT, 409: REFUSED},
    ),
    partial_update=extend_schema(
        summary="Reschedule a hearing or record its result",
        request=s.HearingUpdateSerializer,
        responses={200: s.HearingSerializer, 400: BAD_INPUT},
    ),
)
class HearingViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, LegalViewSet):
    output_serializer = s.HearingSerializer
    input_serializers = {"create": s.HearingCreateSerializer, "partial_update": s.HearingUpdateSerializer}
    filterset_class = HearingFilter
    http_method_names = ["get", "post", "patch", "head", "options"]
    write_permissions = {"create": ["legal.add_hearing"], "partial_update": ["legal.change_hearing"]}

    def get_queryset(self):
        return hearings_for(self.request.user).order_by("starts_at", "id")

    def create(self, request, *args, **kwargs):
        data = self.read_body(request)
        hearing = services.schedule_hearing(
            matter=data["matter"],
            starts_at=data["starts_at"],
            court_room=data.get("court_room", ""),
            judge=data.get("judge", ""),
            actor=request.user,
            reason=data["reason"],
        )
        return self.answer(hearing, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        hearing = self.get_object()
        data = self.read_body(request, partial=True)
        updated = services.update_hearing(
            hearing=hearing,
            starts_at=data.get("starts_at"),
            court_room=data.get("court_room"),
            judge=data.get("judge"),
            result=data.get("result"),
            actor=request.user,
            reason=data.get("reason") or "hearing updated",
        )
        return self.answer(updated)


@extend_schema_view(
    list=extend_schema(parameters=[MATTER_PARAM]),
    create=extend_schema(
        summary="Add a manual deadline (reminders default to T−7, T−1, T)",
        request=s.DeadlineCreateSerializer,
        responses={201: s.DeadlineSerializer, 400: BAD_INPUT, 409: REFUSED},
    ),
    partial_update=extend_schema(
        summary="Mark a deadline done, move it or change its reminders",
        request=s.DeadlineUpdateSerializer,
        responses={200: s.DeadlineSerializer, 400: BAD_INPUT},
    ),
)
class DeadlineViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, LegalViewSet):
    output_serializer = s.DeadlineSerializer
    input_serializers = {"create": s.DeadlineCreateSerializer, "partial_update": s.DeadlineUpdateSerializer}
    filterset_class = DeadlineFilter
    http_method_names = ["get", "post", "patch", "head", "options"]
    write_permissions = {"create": ["legal.add_deadline"], "partial_update": ["legal.change_deadline"]}

    def get_queryset(self):
        return deadlines_for(self.request.user).order_by("due_on", "id")

    def create(self, request, *args, **kwargs):
        data = self.read_body(request)
        deadline = services.add_deadline(
            matter=data["matter"],
            kind=data["kind"],
            due_on=data["due_on"],
            title=data.get("title", ""),
            reminders=data.get("reminders"),
            actor=request.user,
            reason=data["reason"],
        )
        return self.answer(deadline, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        deadline = self.get_object()
        data = self.read_body(request, partial=True)
        updated = services.update_deadline(
            deadline=deadline,
            due_on=data.get("due_on"),
            reminders=data.get("reminders"),
            done=data.get("done"),
            on=timezone.localdate(),
            actor=request.user,
            reason=data.get("reason") or "deadline updated",
        )
        return self.answer(updated)


@extend_schema_view(
    list=extend_schema(parameters=[MATTER_PARAM]),
    create=extend_schema(
        summary="Record a court or lawyer fee (posts a legal_cost charge; honours Idempotency-Key)",
        request=s.LegalCostCreateSerializer,
        responses={201: s.LegalCostSerializer, 400: BAD_INPUT, 409: REFUSED},
    ),
)
class LegalCostViewSet(mixins.CreateModelMixin, LegalViewSet):
    output_serializer = s.LegalCostSerializer
    input_serializers = {"create": s.LegalCostCreateSerializer}
    filterset_class = LegalCostFilter
    write_permissions = {"create": ["legal.add_legalcost"]}

    def get_queryset(self):
        return legal_costs_for(self.request.user).order_by("incurred_on", "id")

    def create(self, request, *args, **kwargs):
        data = self.read_body(request)
        key = request.headers.get("Idempotency-Key")
        existing = (
            key and LegalCost.objects.filter(ledger_entry__idempotency_key=f"legal-cost:{key}").exists()
        )
        cost = services.add_legal_cost(
            matter=data["matter"],
            debt=data["debt"],
            kind=data["kind"],
            amount=data["amount"],
            incurred_on=data["incurred_on"],
            note=data.get("note", ""),
            reason=data.get("reason", ""),
            key=key,
            actor=request.user,
        )
        return self.answer(cost, status.HTTP_200_OK if existing else status.HTTP_201_CREATED)

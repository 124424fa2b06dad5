"""Viewsets for collection work: teams, contacts, promises, plans,
settlements and disputes (DESIGN.md, Contracts; RULES.md §3–§5).

Thin over the domain: rows come from ``backoffice.access``; every write
calls a service in ``cases.services`` with ``actor=request.user`` (and the
business date, ``timezone.localdate()``, where the service wants one). The
rows never change by ``PUT``/``PATCH``/``DELETE`` (405): state changes go
through the action routes (``cancel``, ``approve``, ``reject``, ``resolve``).

Who may write: superusers and holders of the model permission the view
names for the action (``write_permissions``; ``backoffice.roles`` gives
them to the roles), on a case in ``backoffice.access.writable_cases_for``
(otherwise 409, like the services' own ``NotAllowed``). Which rows they may
see is ``backoffice.access``'s business: an id in a body the user cannot
see answers 400, one in the URL 404. The services make the finer decisions
(approval limits, holds) and answer 409.
"""

import django_filters
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from backoffice.access import (
    contacts_for,
    disputes_for,
    plans_for,
    promises_for,
    settlements_for,
    teams_for,
    writable_cases_for,
)
from backoffice.api import BAD_INPUT, REFUSED, SupervisorWritesOrReadOnly, is_signed_in, method_not_allowed
from backoffice.errors import NotAllowed
from cases.api import work_serializers as w
from cases.models import ContactAttempt, Dispute, PaymentPlan, PromiseToPay, Settlement
from cases.services.contacts import ContactRefused, check_contact, log_contact
from cases.services.disputes import raise_dispute, resolve_dispute
from cases.services.plans import cancel_plan, create_plan
from cases.services.promises import cancel_promise, make_promise
from cases.services.settlements import decide_settlement, propose_settlement

READ_AND_ACT = ["get", "post", "head", "options"]


def ensure_writable(user, case_id: int) -> None:
    """409 unless ``user`` may work the case (``writable_cases_for``): a
    collector's closed case, a compliance officer…"""
    if not writable_cases_for(user).filter(pk=case_id).exists():
        raise NotAllowed({"case": [_("You may not work this case.")]})


class CollectionWork(permissions.BasePermission):
    """Reads for any signed-in user (rows filtered by access). Writes for
    superusers and users holding every permission the view lists for the
    action in ``write_permissions`` (an action not listed: no one else)."""

    def has_permission(self, request, view):
        user = request.user
        if not is_signed_in(user):
            return False
        if request.method in permissions.SAFE_METHODS or method_not_allowed(request, view):
            return True
        if user.is_superuser:
            return True
        required = getattr(view, "write_permissions", {}).get(getattr(view, "action", None))
        return required is not None and user.has_perms(required)


# -- teams -------------------------------------------------------------------------------


class TeamViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Collection teams: ``name``, ``lead``, ``members`` (user ids).
    Supervisors and administrators write; others read. Teams are not
    deleted (assignment rules and history point at them)."""

    serializer_class = w.TeamSerializer
    permission_classes = [SupervisorWritesOrReadOnly]

    def get_queryset(self):
        return teams_for(self.request.user).prefetch_related("members").order_by("name")


# -- contacts ------------------------------------------------------------------------------


class ContactFilter(django_filters.FilterSet):
    case = django_filters.NumberFilter(field_name="case_id")
    channel = django_filters.ChoiceFilter(choices=ContactAttempt.Channel.choices)
    outcome = django_filters.ChoiceFilter(choices=ContactAttempt.Outcome.choices)


@extend_schema_view(
    create=extend_schema(
        summary="Log a contact attempt",
        request=w.ContactLogSerializer,
        responses={
            201: w.ContactAttemptSerializer,
            400: BAD_INPUT,
            409: OpenApiResponse(
                w.ContactRefusedSerializer,
                description=_("Refused by the contact rules; the attempt is stored with outcome refused."),
            ),
        },
    ),
    check=extend_schema(
        summary="Ask the contact rules, without logging",
        request=w.ContactCheckSerializer,
        responses={200: w.ContactDecisionSerializer, 400: BAD_INPUT},
    ),
)
class ContactViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Contact attempts (RULES §4), newest first. ``POST`` logs one through
    the contact rules; ``check/`` asks them without logging."""

    serializer_class = w.ContactAttemptSerializer
    permission_classes = [CollectionWork]
    filterset_class = ContactFilter
    # Asking the rules writes nothing: whoever may see contact attempts may ask.
    write_permissions = {"create": ["cases.add_contactattempt"], "check": ["cases.view_contactattempt"]}

    def get_queryset(self):
        return contacts_for(self.request.user).order_by("-started_at", "-id")

    def get_serializer_class(self):
        if self.action == "create":
            return w.ContactLogSerializer
        if self.action == "check":
            return w.ContactCheckSerializer
        return w.ContactAttemptSerializer

    def create(self, request, *args, **kwargs):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        ensure_writable(request.user, data["case"].pk)
        try:
            attempt = log_contact(
                case=data["case"],
                party=data["party"],
                channel=data["channel"],
                outcome=data["outcome"],
                started_at=data.get("started_at") or timezone.now(),
                actor=request.user,
                contact_point=data.get("contact_point"),
                third_party=data.get("third_party"),
                debt=data.get("debt"),
                direction=data["direction"],
                note=data["note"],
                duration_s=data["duration_s"],
                callback_at=data.get("callback_at"),
            )
        except ContactRefused as refused:
            # The service committed the refused attempt in its own
            # transaction; answering (not raising) keeps any request-level
            # transaction from rolling it back (RULES §4: it is kept).
            payload = {
                "rules": refused.rules,
                "reason": refused.reason,
                "next_allowed_at": refused.decision.next_allowed_at,
                "attempt": refused.attempt.pk,
            }
            return Response(w.ContactRefusedSerializer(payload).data, status=status.HTTP_409_CONFLICT)
        return Response(w.ContactAttemptSerializer(attempt).data, status=status.HTTP_201_CREATED)

    @action(detail=False, methods=["post"])
    def check(self, request):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        decision = check_contact(
            case=data["case"],
            party=data["party"],
            channel=data["channel"],
            at=data.get("at") or timezone.now(),
            actor=request.user,
            contact_point=data.get("contact_point"),
            third_party=data.get("third_party"),
        )
        return Response(w.ContactDecisionSerializer(decision).data)


# -- promises, plans, settlements, disputes ----------------------------------------------------


class CaseWorkFilter(django_filters.FilterSet):
    """``?case=`` and ``?debt=`` as plain ids: an id the user may not see matches nothing."""

    case = django_filters.NumberFilter(field_name="case_id")
    debt = django_filters.NumberFilter(field_name="debt_id")


class PromiseFilter(CaseWorkFilter):
    status = django_filters.ChoiceFilter(choices=PromiseToPay.Status.choices)


class PlanFilter(CaseWorkFilter):
    status = django_filters.ChoiceFilter(choices=PaymentPlan.Status.choices)


class SettlementFilter(CaseWorkFilter):
    status = django_filters.ChoiceFilter(choices=Settlement.Status.choices)


class DisputeFilter(CaseWorkFilter):
    status = django_filters.ChoiceFilter(choices=Dispute.Status.choices)


class CaseWorkViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Rows of collection work on a case: listed, read, created through a
    service, changed only through action routes."""

    permission_classes = [CollectionWork]
    http_method_names = READ_AND_ACT
    # Output serializer; ``input_serializers`` maps actions to request bodies.
    output_serializer = None
    input_serializers: dict = {}

    def get_serializer_class(self):
        return self.input_serializers.get(self.action, self.output_serializer)

    def read_body(self, request) -> dict:
        """The validated body; for a new row, only on a case the user may work."""
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        if "case" in body.validated_data:
            ensure_writable(request.user, body.validated_data["case"].pk)
        return body.validated_data

    def get_work_object(self):
        """The row named in the URL (404 unless visible), on a case the user may work."""
        row = self.get_object()
        ensure_writable(self.request.user, row.case_id)
        return row

    def answer(self, row, code=status.HTTP_200_OK) -> Response:
        return Response(self.output_serializer(row, context=self.get_serializer_context()).data, status=code)


@extend_schema_view(
    create=extend_schema(
        summary="Record a promise to pay",
        request=w.PromiseCreateSerializer,
        responses={201: w.PromiseSerializer, 400: BAD_INPUT, 409: REFUSED},
    ),
    cancel=extend_schema(
        summary="Cancel a pending promise",
        request=w.CancelSerializer,
        responses={200: w.PromiseSerializer, 400: BAD_INPUT, 409: REFUSED},
    ),
)
class PromiseViewSet(CaseWorkViewSet):
    """Promises to pay (RULES §5), by due date."""

    output_serializer = w.PromiseSerializer
    input_serializers = {"create": w.PromiseCreateSerializer, "cancel": w.CancelSerializer}
    filterset_class = PromiseFilter
    write_permissions = {"create": ["cases.add_promisetopay"], "cancel": ["cases.change_promisetopay"]}

    def get_queryset(self):
        return promises_for(self.request.user).order_by("due_on", "id")

    def create(self, request, *args, **kwargs):
        data = self.read_body(request)
        promise = make_promise(
            case=data["case"],
            debt=data.get("debt"),
            contact=data.get("contact"),
            amount=data["amount"],
            due_on=data["due_on"],
            today=timezone.localdate(),
            actor=request.user,
        )
        return self.answer(promise, status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        promise = self.get_work_object()
        data = self.read_body(request)
        return self.answer(cancel_promise(promise=promise, actor=request.user, reason=data["reason"]))


@extend_schema_view(
    create=extend_schema(
        summary="Agree a payment plan",
        request=w.PlanCreateSerializer,
        responses={201: w.PlanSerializer, 400: BAD_INPUT, 409: REFUSED},
    ),
    cancel=extend_schema(
        summary="Cancel an active plan",
        request=w.CancelSerializer,
        responses={200: w.PlanSerializer, 400: BAD_INPUT, 409: REFUSED},
    ),
)
class PlanViewSet(CaseWorkViewSet):
    """Payment plans (RULES §5) with their instalments, newest first."""

    output_serializer = w.PlanSerializer
    input_serializers = {"create": w.PlanCreateSerializer, "cancel": w.CancelSerializer}
    filterset_class = PlanFilter
    write_permissions = {"create": ["cases.add_paymentplan"], "cancel": ["cases.change_paymentplan"]}

    def get_queryset(self):
        return plans_for(self.request.user).prefetch_related("instalments").order_by("-id")

    def create(self, request, *args, **kwargs):
        data = self.read_body(request)
        plan = create_plan(
            case=data["case"],
            debt=data["debt"],
            total=data["total"],
            instalments=[dict(line) for line in data["instalments"]],
            today=timezone.localdate(),
            actor=request.user,
        )
        return self.answer(self.get_queryset().get(pk=plan.pk), status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        plan = self.get_work_object()
        data = self.read_body(request)
        cancel_plan(plan=plan, actor=request.user, reason=data["reason"])
        return self.answer(self.get_queryset().get(pk=plan.pk))


@extend_schema_view(
    create=extend_schema(
        summary="Offer a settlement",
        description=_(
            "Approved at once when the requester's approval limit covers the discount, "
            "otherwise pending approval."
        ),
        request=w.SettlementCreateSerializer,
        responses={201: w.SettlementSerializer, 400: BAD_INPUT, 409: REFUSED},
    ),
    approve=extend_schema(
        summary="Approve a settlement waiting for approval",
        request=w.DecisionSerializer,
        responses={
            200: w.SettlementSerializer,
            400: BAD_INPUT,
            409: OpenApiResponse(description=_("Not pending, or beyond your approval limit.")),
        },
    ),
    reject=extend_schema(
        summary="Reject a settlement waiting for approval",
        request=w.DecisionSerializer,
        responses={
            200: w.SettlementSerializer,
            400: BAD_INPUT,
            409: OpenApiResponse(description=_("Not pending, or beyond your approval limit.")),
        },
    ),
)
class SettlementViewSet(CaseWorkViewSet):
    """Settlement offers (RULES §5), newest first."""

    output_serializer = w.SettlementSerializer
    input_serializers = {
        "create": w.SettlementCreateSerializer,
        "approve": w.DecisionSerializer,
        "reject": w.DecisionSerializer,
    }
    filterset_class = SettlementFilter
    write_permissions = {
        "create": ["cases.add_settlement"],
        "approve": ["cases.change_settlement"],
        "reject": ["cases.change_settlement"],
    }

    def get_queryset(self):
        return settlements_for(self.request.user).order_by("-id")

    def create(self, request, *args, **kwargs):
        data = self.read_body(request)
        settlement = propose_settlement(
            case=data["case"],
            debt=data["debt"],
            discount_percent=data["discount_percent"],
            valid_until=data["valid_until"],
            today=timezone.localdate(),
            actor=request.user,
        )
        return self.answer(settlement, status.HTTP_201_CREATED)

    def _decide(self, request, *, approve: bool) -> Response:
        # Approvers may decide beyond the cases they work: the approval
        # limit (the service) is the rule, and the offer must be visible.
        settlement = self.get_object()
        data = self.read_body(request)
        decided = decide_settlement(
            settlement=settlement, approve=approve, actor=request.user, reason=data["reason"]
        )
        return self.answer(decided)

    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._decide(request, approve=True)

    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._decide(request, approve=False)


@extend_schema_view(
    create=extend_schema(
        summary="Raise a dispute (puts the case on the dispute hold)",
        request=w.DisputeCreateSerializer,
        responses={201: w.DisputeSerializer, 400: BAD_INPUT},
    ),
    resolve=extend_schema(
        summary="Resolve an open dispute",
        request=w.DisputeResolveSerializer,
        responses={200: w.DisputeSerializer, 400: BAD_INPUT, 409: REFUSED},
    ),
)
class DisputeViewSet(CaseWorkViewSet):
    """Disputes (RULES §5), newest first."""

    output_serializer = w.DisputeSerializer
    input_serializers = {"create": w.DisputeCreateSerializer, "resolve": w.DisputeResolveSerializer}
    filterset_class = DisputeFilter
    write_permissions = {"create": ["cases.add_dispute"], "resolve": ["cases.change_dispute"]}

    def get_queryset(self):
        disputes = disputes_for(self.request.user).order_by("-opened_on", "-id")
        if self.action == "resolve":
            # resolve_dispute reads the customer's jurisdiction.
            return disputes.select_related("case__customer")
        return disputes

    def create(self, request, *args, **kwargs):
        data = self.read_body(request)
        dispute = raise_dispute(
            case=data["case"],
            debt=data.get("debt"),
            raised_via=data["raised_via"],
            reason=data["reason"],
            opened_on=data.get("opened_on") or timezone.localdate(),
            actor=request.user,
        )
        return self.answer(dispute, status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        # Resolving is compliance work (backoffice.roles), not case work:
        # the permission and a visible dispute decide, not writable cases.
        dispute = self.get_object()
        data = self.read_body(request)
        resolved = resolve_dispute(
            dispute=dispute,
            outcome=data["outcome"],
            resolved_on=data.get("resolved_on") or timezone.localdate(),
            reason=data["reason"],
            consumer_disagrees=data["consumer_disagrees"],
            verification_sent_on=data.get("verification_sent_on"),
            actor=request.user,
        )
        return self.answer(resolved)

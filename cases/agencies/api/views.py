"""``agencies/`` (Supervisor/Administrator write) and ``agency-placements/``
(list/detail; ``POST`` places; ``POST {id}/recall/`` recalls with a reason).

Thin: rows come from ``backoffice.access``; writes call
``cases.agencies.services`` with ``actor=request.user``.
"""

import django_filters
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from backoffice.access import agencies_for, agency_placements_for
from backoffice.api import BAD_INPUT, REFUSED, SupervisorWritesOrReadOnly
from cases.agencies import services
from cases.agencies.api import serializers as s
from cases.agencies.models import AgencyPlacement


@extend_schema_view(
    create=extend_schema(summary="Add an agency", responses={201: s.AgencySerializer, 400: BAD_INPUT}),
    update=extend_schema(summary="Change an agency", responses={200: s.AgencySerializer, 400: BAD_INPUT}),
    partial_update=extend_schema(
        summary="Change some of an agency", responses={200: s.AgencySerializer, 400: BAD_INPUT}
    ),
)
class AgencyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Outside collection agencies with their commission rates by bucket.
    Agency staff read their own agency; supervisors and administrators
    write. Agencies are deactivated, never deleted."""

    serializer_class = s.AgencySerializer
    permission_classes = [SupervisorWritesOrReadOnly]

    def get_queryset(self):
        return agencies_for(self.request.user).prefetch_related("commission_rates").order_by("name")

    def _save(self, serializer, agency=None):
        data = dict(serializer.validated_data)
        reason = data.pop("reason", "changed through the API")
        rates = data.pop("commission_rates", None)
        saved = services.save_agency(
            agency=agency,
            fields=data,
            rates=None if rates is None else {row["bucket"]: row["rate_percent"] for row in rates},
            actor=self.request.user,
            reason=reason,
        )
        serializer.instance = self.get_queryset().get(pk=saved.pk)

    def perform_create(self, serializer):
        self._save(serializer)

    def perform_update(self, serializer):
        self._save(serializer, agency=serializer.instance)


class PlacementFilter(django_filters.FilterSet):
    agency = django_filters.NumberFilter(field_name="agency_id")
    case = django_filters.NumberFilter(field_name="case_id")
    status = django_filters.ChoiceFilter(choices=AgencyPlacement.Status.choices)


@extend_schema_view(
    create=extend_schema(
        summary="Place cases with an agency (a selection or a rule)",
        request=s.PlaceSerializer,
        responses={201: s.AgencyPlacementSerializer(many=True), 400: BAD_INPUT, 409: REFUSED},
    ),
    recall=extend_schema(
        summary="Recall a placement by hand, with a reason",
        request=s.RecallSerializer,
        responses={200: s.AgencyPlacementSerializer, 400: BAD_INPUT, 409: REFUSED},
    ),
)
class AgencyPlacementViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Cases placed with agencies, newest first. Agency staff see their
    agency's open placements (the shared instructions)."""

    serializer_class = s.AgencyPlacementSerializer
    permission_classes = [SupervisorWritesOrReadOnly]
    filterset_class = PlacementFilter

    def get_queryset(self):
        return agency_placements_for(self.request.user).order_by("-start_on", "-id")

    def get_serializer_class(self):
        return {"create": s.PlaceSerializer, "recall": s.RecallSerializer}.get(
            self.action, s.AgencyPlacementSerializer
        )

    def create(self, request, *args, **kwargs):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        common = {
            "agency": data["agency"],
            "start_on": data["start_on"],
            "end_on": data["end_on"],
            "instructions": data["instructions"],
            "share_contact_history": data["share_contact_history"],
            "actor": request.user,
            "reason": data["reason"],
        }
        if data.get("cases"):
            placements = services.place_with_agency(cases=data["cases"], **common)
        else:
            rule = data["rule"]
            criteria = services.PlacementCriteria(
                buckets=rule["buckets"],
                min_balance=rule.get("min_balance"),
                max_balance=rule.get("max_balance"),
                regions=rule["regions"],
                product_ids=[p.pk for p in rule["products"]],
            )
            placements = services.place_by_rule(criteria=criteria, **common)
        out = s.AgencyPlacementSerializer(placements, many=True)
        return Response(out.data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def recall(self, request, pk=None):
        placement = self.get_object()
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        recalled = services.recall_placement(
            placement=placement,
            on=body.validated_data.get("on") or timezone.localdate(),
            actor=request.user,
            reason=body.validated_data["reason"],
        )
        return Response(s.AgencyPlacementSerializer(recalled).data)

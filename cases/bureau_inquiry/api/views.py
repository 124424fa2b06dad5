"""``bureau-reports/``: a customer's credit bureau snapshots (read-only, rows
through ``backoffice.access.bureau_reports_for``) and ``POST
bureau-reports/refresh/`` ("refresh now": queued, answered 202)."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from backoffice.access import bureau_reports_for, may_request_bureau_report
from cases.bureau_inquiry.api.serializers import (
    BureauReportSerializer,
    RefreshQueuedSerializer,
    RefreshRequestSerializer,
)
from cases.bureau_inquiry.models import BureauReport
from cases.bureau_inquiry.services import request_refresh_now


class BureauReportFilter(django_filters.FilterSet):
    class Meta:
        model = BureauReport
        fields = ["customer", "debt"]


class BureauReportViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = BureauReportSerializer
    filterset_class = BureauReportFilter

    def get_queryset(self):
        return bureau_reports_for(self.request.user).order_by("-fetched_at", "-id")

    @extend_schema(request=RefreshRequestSerializer, responses={202: RefreshQueuedSerializer})
    @action(detail=False, methods=["post"])
    def refresh(self, request):
        """Queue a fresh report of the case's customer (needs the request
        permission and a case the user may work on)."""
        if not may_request_bureau_report(request.user):
            raise PermissionDenied()
        serializer = RefreshRequestSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        case = serializer.validated_data["case"]
        request_refresh_now(case=case, actor=request.user, reason=serializer.validated_data["reason"])
        body = {"case": case.pk, "customer": case.customer_id, "queued": True}
        return Response(RefreshQueuedSerializer(body).data, status=status.HTTP_202_ACCEPTED)

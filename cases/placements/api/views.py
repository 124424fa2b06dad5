"""``placements/``: bulk account files (DESIGN.md, Contracts).

``POST`` (multipart ``file``, ``creditor``, ``mode``, ``dry_run``) calls
``submit_placement_file``, which checks the file as a whole and hands it to a
worker (an import never runs inside the request): 202 with the file queued
(poll the detail), 201 with the import's detail when the worker already
finished (eager Celery: development, tests), 200 with the first import when
the same file was already imported for the creditor. A file that cannot be
read at all, or exceeds the import bounds, answers 400 and writes nothing.
"""

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from backoffice.access import may_upload_placements, placement_files_for
from backoffice.filereaders import upload_on_disk
from backoffice.models import AccessRecord
from backoffice.parsers import BoundedJSONParser
from backoffice.services import record_download
from cases.placements.api import serializers as s
from cases.placements.models import PlacementFile
from cases.placements.selectors import report_csv, report_filename, report_lines
from cases.placements.services import submit_placement_file


class MayUploadPlacements(permissions.BasePermission):
    """Reads for any signed-in user (rows from access); uploads per access."""

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return may_upload_placements(request.user)


@extend_schema_view(
    create=extend_schema(
        summary="Upload a placement file",
        request={"multipart/form-data": s.PlacementUploadSerializer},
        responses={
            201: s.PlacementFileDetailSerializer,
            202: s.PlacementFileDetailSerializer,
            200: s.PlacementFileDetailSerializer,
        },
    ),
)
class PlacementFileViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Placement files and their imports: status, progress, counts, row report."""

    permission_classes = [MayUploadPlacements]
    parser_classes = [MultiPartParser, FormParser, BoundedJSONParser]
    filterset_fields = ["creditor", "status", "dry_run"]

    def get_queryset(self):
        return placement_files_for(self.request.user).order_by("-id")

    def get_serializer_class(self):
        if self.action == "create":
            return s.PlacementUploadSerializer
        if self.action == "retrieve":
            return s.PlacementFileDetailSerializer
        return s.PlacementFileSerializer

    def create(self, request, *args, **kwargs):
        upload = self.get_serializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        handle = data["file"]
        with upload_on_disk(handle) as path:
            submission = submit_placement_file(
                creditor=data["creditor"],
                path=path,
                original_name=handle.name,
                mode=data["mode"],
                dry_run=data["dry_run"],
                actor=request.user,
                business_date=timezone.localdate(),
            )
        placement_file = submission.placement_file
        placement_file.refresh_from_db()  # an eager worker may have finished it
        body = s.PlacementFileDetailSerializer(placement_file, context=self.get_serializer_context()).data
        if not submission.created:
            code = status.HTTP_200_OK
        elif placement_file.status in PlacementFile.FINISHED:
            code = status.HTTP_201_CREATED
        else:
            code = status.HTTP_202_ACCEPTED
        return Response(body, status=code)

    @extend_schema(
        summary="The row report as CSV",
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR)},
        filters=False,
    )
    @action(detail=True, methods=["get"])
    def report(self, request, pk=None):
        placement_file = self.get_object()
        record_download(
            user=request.user,
            action=AccessRecord.Action.EXPORT_CSV,
            obj=placement_file,
            file_name=report_filename(placement_file),
            rows=report_lines(placement_file).count(),
        )
        response = StreamingHttpResponse(report_csv(placement_file), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{report_filename(placement_file)}"'
        return response

"""``statements/``: payment statement files (issue #9).

``POST`` (multipart ``file``, ``source``, ``business_date``) calls
``submit_statement_file``, which checks the file as a whole and hands it to a
worker (an import never runs inside the request): 202 with the file
``queued`` (poll the detail), 201 with the reconciliation when the worker
already finished (eager Celery: development, tests), 200 with the first
import when the same file was imported before, 400 (nothing written) when the
file cannot be read or exceeds the import bounds. Rows: ``backoffice.access.statement_files_for``; uploads:
``may_import_statements``.
"""

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from backoffice.access import may_import_statements, statement_files_for
from backoffice.filereaders import upload_on_disk
from backoffice.parsers import BoundedJSONParser
from cases.statements.api import serializers as s
from cases.statements.models import StatementFile
from cases.statements.services import submit_statement_file


class MayImportStatements(permissions.BasePermission):
    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return may_import_statements(request.user)


@extend_schema_view(
    create=extend_schema(
        summary="Import a payment statement file",
        request={"multipart/form-data": s.StatementUploadSerializer},
        responses={
            201: s.StatementFileDetailSerializer,
            202: s.StatementFileDetailSerializer,
            200: s.StatementFileDetailSerializer,
        },
    ),
)
class StatementFileViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Imported statement files and their reconciliation."""

    permission_classes = [MayImportStatements]
    # JSON too, so a body without a file answers 400 naming it rather than 415.
    parser_classes = [MultiPartParser, FormParser, BoundedJSONParser]
    filterset_fields = ["source", "status", "business_date"]

    def get_queryset(self):
        return statement_files_for(self.request.user).select_related("source").order_by("-id")

    def get_serializer_class(self):
        if self.action == "create":
            return s.StatementUploadSerializer
        if self.action == "retrieve":
            return s.StatementFileDetailSerializer
        return s.StatementFileSerializer

    def create(self, request, *args, **kwargs):
        upload = self.get_serializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        with upload_on_disk(data["file"]) as path:
            result = submit_statement_file(
                path=path,
                source=data["source"],
                actor=request.user,
                business_date=data.get("business_date") or timezone.localdate(),
                original_name=data["file"].name,
            )
        statement = result.file
        statement.refresh_from_db()
        body = s.StatementFileDetailSerializer(statement, context=self.get_serializer_context()).data
        if not result.created:
            code = status.HTTP_200_OK
        elif statement.status in StatementFile.PENDING:
            code = status.HTTP_202_ACCEPTED
        else:
            code = status.HTTP_201_CREATED
        return Response(body, status=code)

"""``placements/``: upload a placement file (multipart) and read its import."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from backoffice.access import creditors_for
from backoffice.api import VisibleRelatedField
from cases.models import Creditor
from cases.placements.models import PlacementFile, PlacementReportLine
from cases.placements.selectors import report_lines

# The detail lists at most this many report lines; ``report/`` has them all (CSV).
REPORT_IN_DETAIL = 1000


class PlacementUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=_("CSV (UTF-8 or GBK) or XLSX, in the creditor's column layout."))
    creditor = VisibleRelatedField(access=creditors_for, queryset=Creditor.objects.none())
    mode = serializers.ChoiceField(
        choices=PlacementFile.Mode.choices, default=PlacementFile.Mode.ALL_OR_NOTHING
    )
    dry_run = serializers.BooleanField(default=False)


class ReportLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlacementReportLine
        fields = ["line", "column", "account_number", "outcome", "reason"]
        read_only_fields = fields


class ProgressSerializer(serializers.Serializer):
    processed = serializers.IntegerField()
    total = serializers.IntegerField(allow_null=True)
    percent = serializers.FloatField()


class PlacementFileSerializer(serializers.ModelSerializer):
    progress = ProgressSerializer(read_only=True)

    class Meta:
        model = PlacementFile
        fields = [
            "id",
            "creditor",
            "original_name",
            "sha256",
            "size",
            "kind",
            "encoding",
            "mode",
            "dry_run",
            "business_date",
            "status",
            "progress",
            "rows",
            "loaded",
            "rejected",
            "duplicates",
            "adjusted",
            "error",
            "uploaded_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class PlacementFileDetailSerializer(PlacementFileSerializer):
    report = serializers.SerializerMethodField(help_text=_("The first report lines; all of them at report/."))
    report_lines = serializers.SerializerMethodField(help_text=_("How many report lines there are."))

    class Meta(PlacementFileSerializer.Meta):
        fields = [*PlacementFileSerializer.Meta.fields, "report_lines", "report"]
        read_only_fields = fields

    def get_report(self, obj) -> list[dict]:
        lines = report_lines(obj)[:REPORT_IN_DETAIL]
        return ReportLineSerializer(lines, many=True).data

    def get_report_lines(self, obj) -> int:
        return report_lines(obj).count()

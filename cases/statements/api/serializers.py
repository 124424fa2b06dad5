"""``statements/``: upload a payment statement (multipart) and read its reconciliation."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from backoffice.access import statement_sources_for
from backoffice.api import VisibleRelatedField
from cases.statements.models import StatementFile, StatementLine, StatementSource

# The detail lists at most this many suspense and rejected lines.
LINES_IN_DETAIL = 1000


class StatementUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=_("CSV (UTF-8 or GBK) or XLSX, in the source's column layout."))
    source = VisibleRelatedField(access=statement_sources_for, queryset=StatementSource.objects.none())
    business_date = serializers.DateField(
        required=False, help_text=_("Lines dated after it are refused; default: today.")
    )


class StatementLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = StatementLine
        fields = [
            "line_number",
            "transaction_id",
            "received_on",
            "amount",
            "currency",
            "status",
            "column",
            "reason",
        ]
        read_only_fields = fields


class StatementFileSerializer(serializers.ModelSerializer):
    source = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = StatementFile
        fields = [
            "id",
            "source",
            "original_name",
            "sha256",
            "encoding",
            "business_date",
            "status",
            "line_count",
            "posted_count",
            "suspense_count",
            "rejected_count",
            "already_posted_count",
            "total_amount",
            "posted_amount",
            "suspense_amount",
            "rejected_amount",
            "imported_at",
            "started_at",
            "error",
        ]
        read_only_fields = fields


class StatementFileDetailSerializer(StatementFileSerializer):
    lines = serializers.SerializerMethodField(help_text=_("Lines in suspense or rejected, by line number."))

    class Meta(StatementFileSerializer.Meta):
        fields = [*StatementFileSerializer.Meta.fields, "lines"]
        read_only_fields = fields

    def get_lines(self, obj) -> list[dict]:
        rows = obj.lines.exclude(status=StatementLine.Status.POSTED).order_by("line_number")[:LINES_IN_DETAIL]
        return StatementLineSerializer(rows, many=True).data

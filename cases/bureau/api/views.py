"""``bureau-submissions/``: the monthly Metro 2 submissions, read-only.

Written by ``cases.bureau.services`` (the monthly task, the admin). Rows
come from ``backoffice.access.bureau_submissions_for``: only the roles that
see every case. The file itself is downloaded from the admin.
"""

import django_filters
from rest_framework import serializers, viewsets

from backoffice.access import bureau_submissions_for
from cases.bureau.models import BureauSubmission


class BureauSubmissionSerializer(serializers.ModelSerializer):
    period = serializers.CharField(source="period_label", read_only=True)

    class Meta:
        model = BureauSubmission
        fields = [
            "id",
            "creditor",
            "period",
            "status",
            "file_name",
            "base_records",
            "j1_segments",
            "j2_segments",
            "k1_segments",
            "k2_segments",
            "k4_segments",
            "status_counts",
            "skipped",
            "total_current_balance",
            "total_amount_past_due",
            "generated_at",
            "sent_at",
            "responded_at",
            "error_lines",
        ]
        read_only_fields = fields


class BureauSubmissionFilter(django_filters.FilterSet):
    creditor = django_filters.NumberFilter(field_name="creditor_id")
    status = django_filters.ChoiceFilter(choices=BureauSubmission.Status.choices)


class BureauSubmissionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = BureauSubmissionSerializer
    filterset_class = BureauSubmissionFilter

    def get_queryset(self):
        return bureau_submissions_for(self.request.user).order_by("-period", "creditor_id")

"""Serializers of the bureau inquiry API."""

from rest_framework import serializers

from backoffice.access import cases_for
from backoffice.api import VisibleRelatedField
from cases.bureau_inquiry.models import BureauReport
from cases.models import CollectionCase


class BureauReportSerializer(serializers.ModelSerializer):
    class Meta:
        model = BureauReport
        fields = [
            "id",
            "bureau",
            "customer",
            "debt",
            "fetched_at",
            "period",
            "request_id",
            "score",
            "score_model",
            "open_tradelines",
            "tradelines",
            "recent_delinquencies",
            "delinquencies",
            "skip_trace",
            "contact_points_added",
            "employer_added",
        ]
        read_only_fields = fields


class RefreshRequestSerializer(serializers.Serializer):
    case = VisibleRelatedField(access=cases_for, queryset=CollectionCase.objects.none())
    reason = serializers.CharField(max_length=100)


class RefreshQueuedSerializer(serializers.Serializer):
    case = serializers.IntegerField()
    customer = serializers.IntegerField()
    queued = serializers.BooleanField()

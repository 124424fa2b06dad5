"""``messages/``: every reminder sent or refused (DESIGN.md contracts).

Read-only: messages are written by ``cases.services.messages`` (the dunning
ladder, collectors' sends). Rows come from ``backoffice.access.messages_for``.
"""

import django_filters
from rest_framework import serializers, viewsets

from backoffice.access import messages_for
from cases.models import Message


class MessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Message
        fields = [
            "id",
            "case",
            "debt",
            "channel",
            "template",
            "language",
            "recipient",
            "subject",
            "body",
            "status",
            "blocked_reason",
            "rules",
            "provider_id",
            "attempts",
            "last_error",
            "scheduled_for",
            "sent_at",
            "delivered_at",
            "created_at",
        ]
        read_only_fields = fields


class MessageFilter(django_filters.FilterSet):
    case = django_filters.NumberFilter(field_name="case_id")
    debt = django_filters.NumberFilter(field_name="debt_id")
    status = django_filters.ChoiceFilter(choices=Message.Status.choices)
    channel = django_filters.ChoiceFilter(choices=Message._meta.get_field("channel").choices)


class MessageViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = MessageSerializer
    filterset_class = MessageFilter

    def get_queryset(self):
        return messages_for(self.request.user).order_by("-created_at", "-id")

"""Customers and their contact points and third parties.

Rows come from ``backoffice.access`` only. Nested routes look the customer
up among the customers the user may see: any other id answers 404.
"""

from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import filters, mixins, viewsets

from backoffice.access import can_view_full_id, contact_points_for, customers_for, third_parties_for
from backoffice.api import ModelPermissions
from backoffice.models import AccessRecord
from backoffice.services import record_accesses
from customers.api.serializers import ContactPointSerializer, CustomerSerializer, ThirdPartyContactSerializer

# Create, read and change; customers and their contact data are never deleted
# through the API (history and retention rules, RULES §4).
WRITABLE = ["get", "post", "put", "patch", "head", "options"]


class CustomerViewSet(viewsets.ModelViewSet):
    """People and companies we collect from. ``?search=`` matches the name
    (contains) or the national ID (exact)."""

    serializer_class = CustomerSerializer
    permission_classes = [ModelPermissions]
    http_method_names = WRITABLE
    filter_backends = [DjangoFilterBackend, filters.SearchFilter]
    filterset_fields = ["kind", "jurisdiction"]
    search_fields = ["name", "=national_id"]

    def get_queryset(self):
        return customers_for(self.request.user).order_by("id")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["full_id"] = can_view_full_id(self.request.user)
        # The serializer adds each customer whose whole ID it shows; the
        # access records are written in one insert when the response is done.
        context["revealed"] = getattr(self, "_revealed", None)
        return context

    def initial(self, request, *args, **kwargs):
        self._revealed = []
        super().initial(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        revealed = getattr(self, "_revealed", None)
        if revealed and response.status_code < 400:
            unique = {customer.pk: customer for customer in revealed}
            record_accesses(
                user=request.user, action=AccessRecord.Action.REVEAL_NATIONAL_ID, objs=unique.values()
            )
        return super().finalize_response(request, response, *args, **kwargs)


class CustomerChildViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Rows under ``customers/{customer_pk}/``; ``access`` is the row filter."""

    permission_classes = [ModelPermissions]
    http_method_names = WRITABLE

    @staticmethod
    def access(user):
        raise NotImplementedError

    def get_customer(self):
        if not hasattr(self, "_customer"):
            self._customer = get_object_or_404(
                customers_for(self.request.user), pk=self.kwargs["customer_pk"]
            )
        return self._customer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.access(self.request.user).none()
        return self.access(self.request.user).filter(customer=self.get_customer()).order_by("id")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context["customer"] = self.get_customer()
        return context


class ContactPointViewSet(CustomerChildViewSet):
    """Phones, emails and postal addresses of one customer."""

    serializer_class = ContactPointSerializer
    access = staticmethod(contact_points_for)


class ThirdPartyContactViewSet(CustomerChildViewSet):
    """Relatives, employers and references of one customer (location only, RULES §4)."""

    serializer_class = ThirdPartyContactSerializer
    access = staticmethod(third_parties_for)

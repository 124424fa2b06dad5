"""Customers and their contact points and third parties.

Rows come from ``backoffice.access`` only. Nested routes look the customer
up among the customers the user may see: any other id answers 404.

Personal data (issue #15): national IDs and dates of birth are masked in
every list and detail; ``POST customers/{id}/reveal/`` shows one of them to
a holder of ``customers.view_full_id`` and writes an access record.
``?search=`` matches names by part and personal values only whole
(``customers.selectors.full_value_match``); such a search is recorded. No
filter takes a lookup on a personal field (``?national_id__regex=`` is
ignored: only the declared filters exist).
"""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import filters, mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from backoffice.access import contact_points_for, customers_for, third_parties_for
from backoffice.api import ModelPermissions
from backoffice.lockout import client_address
from customers.api.serializers import (
    ContactPointSerializer,
    CustomerSerializer,
    RevealedValueSerializer,
    RevealSerializer,
    ThirdPartyContactSerializer,
    VerifyContactPointSerializer,
)
from customers.models import Customer
from customers.selectors import full_value_match
from customers.services import record_personal_search, reveal_personal_value, verify_contact_point


def _where(request) -> str:
    return f"api {client_address(request) or 'unknown address'}"


class CustomerSearchFilter(filters.SearchFilter):
    """``?search=``: each word against part of the name, or the whole term
    against the personal values (exact, normalised); a search by a personal
    value writes one access record naming the fields, never the term."""

    def filter_queryset(self, request, queryset, view):
        named = super().filter_queryset(request, queryset, view)
        term = request.query_params.get(self.search_param, "")
        match = full_value_match(Customer, term)
        if match is None:
            return named
        record_personal_search(
            user=request.user, fields=match.fields, model_label="customer", where=_where(request)
        )
        return named | queryset.filter(match.q)


# Create, read and change; customers and their contact data are never deleted
# through the API (history and retention rules, RULES §4).
WRITABLE = ["get", "post", "put", "patch", "head", "options"]


@extend_schema_view(
    reveal=extend_schema(
        summary="Reveal one masked value of a customer",
        request=RevealSerializer,
        responses={
            200: RevealedValueSerializer,
            400: OpenApiResponse(description=_("Unknown field or no reason; nothing written.")),
            403: OpenApiResponse(description=_("You may not view full values (customers.view_full_id).")),
            404: OpenApiResponse(description=_("No such customer among those you may see.")),
        },
    ),
)
class CustomerViewSet(viewsets.ModelViewSet):
    """People and companies we collect from. ``?search=`` matches part of
    the name, or a whole national ID, date of birth, phone, email or address."""

    serializer_class = CustomerSerializer
    permission_classes = [ModelPermissions]
    action_permissions = {"reveal": ["customers.view_full_id"]}
    http_method_names = WRITABLE
    filter_backends = [DjangoFilterBackend, CustomerSearchFilter]
    filterset_fields = ["kind", "jurisdiction"]
    # Names by part; personal values only whole, through CustomerSearchFilter.
    search_fields = ["name"]

    def get_queryset(self):
        return customers_for(self.request.user).order_by("id")

    def get_serializer_class(self):
        if self.action == "reveal":
            return RevealSerializer
        return super().get_serializer_class()

    @action(detail=True, methods=["post"])
    def reveal(self, request, pk=None):
        """One full value, written to the access records with the reason and
        where the request came from (never the value)."""
        customer = self.get_object()
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        field = body.validated_data["field"]
        value = reveal_personal_value(
            user=request.user,
            customer=customer,
            field=field,
            reason=body.validated_data["reason"],
            where=_where(request),
        )
        return Response(RevealedValueSerializer({"field": field, "value": value}).data)


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
    """Phones, emails and postal addresses of one customer. ``consent`` is
    ``null`` while unknown (a skip-traced point): ``verify/`` records the
    debtor's answer."""

    serializer_class = ContactPointSerializer
    access = staticmethod(contact_points_for)
    action_permissions = {"verify": ["customers.verify_contactpoint"]}

    @extend_schema(
        summary="Verify a contact point and record the debtor's consent",
        request=VerifyContactPointSerializer,
        responses={
            200: ContactPointSerializer,
            400: OpenApiResponse(description=_("No consent or no reason; nothing written.")),
            403: OpenApiResponse(description=_("You may not verify contact points.")),
            404: OpenApiResponse(description=_("No such contact point among those you may see.")),
            409: OpenApiResponse(description=_("Not a case of this customer you may work on.")),
        },
    )
    @action(detail=True, methods=["post"], url_path="verify")
    def verify(self, request, *args, **kwargs):
        point = self.get_object()
        serializer = VerifyContactPointSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        point = verify_contact_point(
            contact_point=point,
            consent=serializer.validated_data["consent"],
            actor=request.user,
            reason=serializer.validated_data["reason"],
        )
        return Response(ContactPointSerializer(point, context=self.get_serializer_context()).data)


class ThirdPartyContactViewSet(CustomerChildViewSet):
    """Relatives, employers and references of one customer (location only, RULES §4)."""

    serializer_class = ThirdPartyContactSerializer
    access = staticmethod(third_parties_for)

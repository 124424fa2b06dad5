"""API-wide behaviour shared by every app's ``api/`` package.

- Business refusals become JSON errors, never 500s: a ``ValidationError``
  from a service answers 400 with a message per field; a ``Conflict``
  (``backoffice.errors``: ``PaymentConflict``, ``NotAllowed`` …) answers 409. Either way the
  request's transaction, if any, is rolled back.
- ``VisibleRelatedField``: a reference in a request body resolves only among
  the rows ``backoffice.access`` lets the user see; anything else is
  "Unknown …" (400), so a body cannot probe rows the user may not see.
- ``CleanModelSerializer``: plain create/update go through
  ``Model.full_clean()`` so a model's own rules (``clean()``, constraints)
  answer 400 per field, and the acting user and reason reach the history row.
- ``PlainDecimalField`` (``money()`` and every model ``DecimalField``):
  amounts are plain decimals; ``"1e3"``, ``" 1000"``, ``"1,000"`` answer 400.
- Permissions: ``IsAdministratorOrReadOnly`` for configuration (policies,
  creditors, products); ``ModelPermissions`` (Django model permissions, with
  per-action overrides) for everything else. Which *rows* a user may touch
  is always ``backoffice.access``'s business, through ``get_queryset``.
"""

import copy
import re

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from backoffice.access import roles_of
from backoffice.audit import record
from backoffice.errors import Conflict
from backoffice.money import MONEY
from backoffice.roles import ADMINISTRATOR, SUPERVISOR

ADMINISTRATOR_GROUP = "Administrator"


def validation_payload(exc: DjangoValidationError) -> dict:
    if hasattr(exc, "error_dict"):
        return {key: [str(m) for m in msgs] for key, msgs in exc.message_dict.items()}
    return {"detail": [str(m) for m in exc.messages]}


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        code = status.HTTP_409_CONFLICT if isinstance(exc, Conflict) else status.HTTP_400_BAD_REQUEST
        set_rollback()
        return Response(validation_payload(exc), status=code)
    return drf_exception_handler(exc, context)


def request_user(serializer: serializers.Serializer):
    request = serializer.context.get("request")
    return getattr(request, "user", None)


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """A primary key that must name a row the requesting user can see.

    ``access`` is one of the ``backoffice.access`` functions (``debts_for``…).
    ``queryset`` is still passed, as ``Model.objects.none()``, only so the
    OpenAPI generator knows the key's type; lookups use ``access``.
    """

    def __init__(self, *, access, **kwargs):
        self.access = access
        super().__init__(**kwargs)
        unknown = format_lazy(_("Unknown {name}."), name=self.queryset.model._meta.verbose_name)
        self.error_messages = {**self.error_messages, "does_not_exist": unknown, "incorrect_type": unknown}

    def get_queryset(self):
        return self.access(request_user(self))


class CleanModelSerializer(serializers.ModelSerializer):
    """Writes through ``Model.full_clean()`` and ``backoffice.audit.record``.

    ``validate`` builds the row as it would be saved (a copy of the instance
    being changed, or a new one with ``instance_defaults()``), runs
    ``full_clean()`` on it, and keeps it; ``create``/``update`` save exactly
    that row. ``clean()`` may normalise values (phones to E.164): what is saved
    is what was validated.
    """

    change_reason = "changed through the API"

    def instance_defaults(self) -> dict:
        """Values a new row gets from outside the body (e.g. the URL's customer)."""
        return {}

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if self.instance is not None:
            candidate = copy.copy(self.instance)
        else:
            candidate = self.Meta.model(**self.instance_defaults())
        for name, value in attrs.items():
            setattr(candidate, name, value)
        self.clean_candidate(candidate)
        self._candidate = candidate
        return attrs

    def clean_candidate(self, candidate) -> None:
        candidate.full_clean()

    def create(self, validated_data):
        return self._save_candidate()

    def update(self, instance, validated_data):
        return self._save_candidate()

    def _save_candidate(self):
        candidate = self._candidate
        record(candidate, actor=request_user(self), reason=self.change_reason)
        candidate.save()
        return candidate


def method_not_allowed(request, view) -> bool:
    """True when the view does not answer ``request.method`` at all: the
    permission classes let it through so the client gets 405, not 403."""
    method = request.method.lower()
    return method not in view.http_method_names or not hasattr(view, method)


class IsAdministratorOrReadOnly(permissions.BasePermission):
    """Reads for any signed-in user (rows still filtered by access);
    writes for superusers and members of the Administrator group."""

    def has_permission(self, request, view):
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if request.method in permissions.SAFE_METHODS or method_not_allowed(request, view):
            return True
        return user.is_superuser or user.groups.filter(name=ADMINISTRATOR_GROUP).exists()


class ModelPermissions(permissions.DjangoModelPermissions):
    """Django model permissions for writes (reads are left to access).

    A view may name the permissions of its own actions in
    ``action_permissions`` (``{"reverse": ["cases.change_payment"]}``).
    """

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        if method_not_allowed(request, view):
            return True
        required = getattr(view, "action_permissions", {}).get(getattr(view, "action", None))
        if required is not None:
            return request.user.has_perms(required)
        return super().has_permission(request, view)


# --- fields and responses every app's serializers and views share -----------------------

REASON = {"max_length": 100, "help_text": _("Why; kept on the history row (at most 100 characters).")}


def reason_field(**kwargs) -> serializers.CharField:
    return serializers.CharField(**{**REASON, **kwargs})


_CHOICE_FIELDS: dict[str, type] = {}


def named_choice(component: str, choices, **kwargs) -> serializers.ChoiceField:
    """A choice field whose enum is its own OpenAPI component: ``channel``
    and ``outcome`` mean different things on payments, contacts and
    disputes, and must not share a generated enum name."""
    if component not in _CHOICE_FIELDS:
        _CHOICE_FIELDS[component] = extend_schema_field(
            {"type": "string", "enum": [value for value, _label in choices]}, component_name=component
        )(type(f"{component}Field", (serializers.ChoiceField,), {}))
    return _CHOICE_FIELDS[component](choices=choices, **kwargs)


# An optional minus, digits, an optional point and digits: nothing else.
_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


class PlainDecimalField(serializers.DecimalField):
    """A decimal written plainly, as DESIGN.md says amounts are ("1413.50").

    DRF's own field strips spaces and takes whatever ``Decimal`` takes:
    ``" 1000"``, ``"1e3"`` (read as 1000), ``"1E3"``. Here a string must be
    an optional minus, digits and an optional fraction, and a JSON number
    must have been written that way too (``backoffice.parsers.JSONNumber``
    keeps its text), so ``1e3`` is refused, not read as 1000. Then DRF's own
    checks apply: at most ``decimal_places`` decimals (``"1.001"`` is refused
    for money), ``max_digits``. Every refusal is a 400 naming the field.
    Every model ``DecimalField`` in a ``ModelSerializer`` maps to this field
    (below), so rates and percentages follow the same rule.
    """

    default_error_messages = {
        "plain": _(
            "Write a plain decimal number: digits, an optional point and decimals (e.g. 1413.50); "
            "no spaces, thousands separators, exponents or words."
        ),
    }

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("plain")
        if isinstance(data, int):
            data = str(data)
        elif isinstance(data, float):
            data = getattr(data, "text", None) or repr(data)
        if not isinstance(data, str) or not _PLAIN_DECIMAL.fullmatch(data):
            self.fail("plain")
        return super().to_internal_value(data)


# ``ModelSerializer`` builds a field per model field from this mapping: every
# model ``DecimalField`` (money, rates) is read by ``PlainDecimalField``.
serializers.ModelSerializer.serializer_field_mapping[models.DecimalField] = PlainDecimalField


def money(**kwargs) -> serializers.DecimalField:
    """An amount: a plain decimal with at most two places (``PlainDecimalField``)."""
    return PlainDecimalField(**MONEY, **kwargs)


REFUSED = OpenApiResponse(description=_("Refused: conflicts with the state of the case (e.g. a hold)."))
BAD_INPUT = OpenApiResponse(description=_("Bad input, per field; nothing written."))


def is_signed_in(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


TEAM_WRITERS = frozenset({SUPERVISOR, ADMINISTRATOR})


class SupervisorWritesOrReadOnly(permissions.BasePermission):
    """DESIGN.md ``teams/``: supervisors (and administrators, superusers) write."""

    def has_permission(self, request, view):
        user = request.user
        if not is_signed_in(user):
            return False
        if request.method in permissions.SAFE_METHODS or method_not_allowed(request, view):
            return True
        return user.is_superuser or bool(roles_of(user) & TEAM_WRITERS)

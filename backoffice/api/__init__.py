"""API-wide behaviour shared by every app's ``api/`` package (``common``)
and the ``/api/v1/`` routes (``urls``)."""

from backoffice.api.common import (  # noqa: F401
    ADMINISTRATOR_GROUP,
    BAD_INPUT,
    REASON,
    REFUSED,
    TEAM_WRITERS,
    CleanModelSerializer,
    IsAdministratorOrReadOnly,
    ModelPermissions,
    PlainDecimalField,
    SupervisorWritesOrReadOnly,
    VisibleRelatedField,
    exception_handler,
    is_signed_in,
    method_not_allowed,
    money,
    named_choice,
    reason_field,
    request_user,
    validation_payload,
)

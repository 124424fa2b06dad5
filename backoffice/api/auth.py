"""The API's sign-in and sign-out (issue #14; DESIGN.md "Contracts").

- ``POST auth/token/`` with ``username`` and ``password`` answers
  ``{"token": …, "expiry": …}``. The token is sent as
  ``Authorization: Token <token>``; only its SHA-512 digest is stored
  (django-rest-knox), and it stops working at ``expiry``
  (``backoffice.tokens.token_ttl_for``). Every call first passes the login
  throttle, then the lockout (django-axes, ``backoffice.lockout``): a locked
  name or address answers 429 with ``Retry-After`` and a JSON ``detail``
  whatever the password. Wrong credentials answer 400, as before.
- ``POST auth/logout/`` revokes the token the request is signed with;
  ``POST auth/logout-all/`` every token of its user. Both answer 204.

Before issue #14 the endpoint handed out one permanent token per user
(``rest_framework.authtoken``); those tokens are no longer accepted, and
each login now issues a new token, up to ``TOKEN_LIMIT_PER_USER`` live ones.
"""

from django.conf import settings
from django.contrib.auth import authenticate, user_logged_in
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema
from knox import views as knox_views
from knox.models import get_token_model
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from backoffice.api.common import BAD_INPUT
from backoffice.lockout import cool_off_seconds, lockout_message
from backoffice.throttling import LoginThrottle
from backoffice.tokens import ExpiringTokenAuthentication, token_ttl_for


class ExpiringTokenScheme(OpenApiAuthenticationExtension):
    """The schema's name for the token header, unchanged from the
    ``rest_framework.authtoken`` days (``tokenAuth``)."""

    target_class = "backoffice.tokens.ExpiringTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": str(gettext_lazy('Token-based authentication with required prefix "Token"')),
        }


class CredentialsSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, trim_whitespace=False)
    password = serializers.CharField(
        max_length=1024, trim_whitespace=False, write_only=True, style={"input_type": "password"}
    )


class IssuedTokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text=gettext_lazy("Send as `Authorization: Token <token>`."))
    expiry = serializers.DateTimeField(help_text=gettext_lazy("The token stops working at this time."))


def _locked_out() -> Response:
    return Response(
        {"detail": lockout_message()},
        status=status.HTTP_429_TOO_MANY_REQUESTS,
        headers={"Retry-After": str(cool_off_seconds())},
    )


LOCKED_OUT = OpenApiResponse(
    description=gettext_lazy(
        "Too many requests from this address (throttle), or this name or address is locked "
        "out after failed sign-ins; see Retry-After."
    )
)


TOKEN_LIMIT = OpenApiResponse(
    description=gettext_lazy("The user already holds TOKEN_LIMIT_PER_USER live tokens: sign out first.")
)


class TokenLoginView(APIView):
    """Username and password in, a new expiring token out."""

    authentication_classes = ()
    permission_classes = (permissions.AllowAny,)
    throttle_classes = (LoginThrottle,)
    serializer_class = CredentialsSerializer

    @extend_schema(
        summary="Sign in: a new expiring API token",
        request=CredentialsSerializer,
        responses={200: IssuedTokenSerializer, 400: BAD_INPUT, 403: TOKEN_LIMIT, 429: LOCKED_OUT},
        auth=[],
    )
    def post(self, request, format=None):
        body = CredentialsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        # The request goes along so the lockout counts this name and address.
        user = authenticate(
            request, username=body.validated_data["username"], password=body.validated_data["password"]
        )
        if getattr(request, "axes_locked_out", False):
            return _locked_out()
        if user is None or not user.is_active:
            raise serializers.ValidationError(
                {"non_field_errors": [_("Unable to log in with provided credentials.")]}
            )
        tokens = get_token_model().objects.filter(user=user)
        now = timezone.now()
        tokens.filter(expiry__lte=now).delete()
        if tokens.count() >= settings.TOKEN_LIMIT_PER_USER:
            raise exceptions.PermissionDenied(
                _(
                    "This user already holds %(limit)d live API tokens: sign out with one of them "
                    "(auth/logout/ or auth/logout-all/) or wait until one expires."
                )
                % {"limit": settings.TOKEN_LIMIT_PER_USER}
            )
        instance, token = get_token_model().objects.create(user=user, expiry=token_ttl_for(user))
        user_logged_in.send(sender=user.__class__, request=request, user=user)
        return Response(IssuedTokenSerializer({"token": token, "expiry": instance.expiry}).data)


class LogoutView(knox_views.LogoutView):
    """Revoke the token this request is signed with."""

    authentication_classes = (ExpiringTokenAuthentication,)

    @extend_schema(summary="Sign out: revoke this token", request=None, responses={204: None})
    def post(self, request, format=None):
        return super().post(request, format=format)


class LogoutAllView(knox_views.LogoutAllView):
    """Revoke every token of the user this request is signed in as."""

    authentication_classes = (ExpiringTokenAuthentication,)

    @extend_schema(
        summary="Sign out everywhere: revoke every token of this user", request=None, responses={204: None}
    )
    def post(self, request, format=None):
        return super().post(request, format=format)

"""API token lifecycle (issue #14): how long a token lives, and when every
token of a user is revoked.

Tokens are django-rest-knox ``AuthToken`` rows: only a SHA-512 digest of the
token is stored, and each has an expiry (``token_ttl_for``). The API's
login, logout and logout-all are ``backoffice.api.auth``.

A user loses every token, at once, when

- their password changes (a changed hash; a rehash of the same password on
  login, when Django raises its hasher's work factor, is not a change),
- they are deactivated (``is_active`` false), or
- they lose their last role (their last group is removed, by either side of
  the relation, or the group itself is deleted).

``ExpiringTokenAuthentication`` reads the ``Authorization: Token …`` header
(``REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]``). It lives here, not in
``backoffice.api``, because DRF imports it while ``rest_framework.views``
itself is being imported.

The receivers below are connected in ``BackofficeConfig.ready``. Writes that
skip signals (``QuerySet.update``) are still covered for deactivation: knox
refuses an inactive user's token on every request.
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password, get_hasher, identify_hasher
from django.utils.translation import gettext as _
from knox.auth import TokenAuthentication
from knox.settings import CONSTANTS, knox_settings
from rest_framework import exceptions

from backoffice.roles import INTEGRATION

# knox issues hex strings of AUTH_TOKEN_CHARACTER_LENGTH characters after the prefix.
_TOKEN_SHAPE = re.compile(
    rb"%s[0-9a-f]{%d}"
    % (re.escape(knox_settings.TOKEN_PREFIX.encode()), knox_settings.AUTH_TOKEN_CHARACTER_LENGTH)
)


class ExpiringTokenAuthentication(TokenAuthentication):
    """knox's token authentication (``Authorization: Token <token>``), with a
    header that is not a token's shape refused as "Invalid token." before it
    reaches the database (knox would fail on bytes that are not UTF-8, and
    PostgreSQL on a NUL)."""

    def authenticate_credentials(self, token: bytes):
        if len(token) > CONSTANTS.DIGEST_LENGTH or not _TOKEN_SHAPE.fullmatch(token):
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        return super().authenticate_credentials(token)


def token_ttl_for(user) -> timedelta:
    """``INTEGRATION_TOKEN_TTL_HOURS`` for the Integration role's service
    users, ``TOKEN_TTL_HOURS`` for everyone else."""
    if user.groups.filter(name=INTEGRATION).exists():
        return timedelta(hours=settings.INTEGRATION_TOKEN_TTL_HOURS)
    return timedelta(hours=settings.TOKEN_TTL_HOURS)


def revoke_all_tokens(user_ids) -> int:
    """Delete every API token of these users; how many were deleted."""
    from knox.models import get_token_model

    deleted, _ = get_token_model().objects.filter(user_id__in=list(user_ids)).delete()
    return deleted


def _hasher_upgrade(user, stored_hash: str, update_fields) -> bool:
    """Django's own rehash on a successful login: ``check_password`` saves
    only the password, forgets the raw value, and does it only for a hash
    the preferred hasher would replace."""
    if update_fields is None or set(update_fields) != {"password"} or getattr(user, "_password", None):
        return False
    try:
        old = identify_hasher(stored_hash)
    except ValueError:
        return False
    preferred = get_hasher("default")
    return old.algorithm != preferred.algorithm or preferred.must_update(stored_hash)


def _password_changed(user, stored_hash: str, update_fields) -> bool:
    if user.password == stored_hash or _hasher_upgrade(user, stored_hash, update_fields):
        return False
    raw = getattr(user, "_password", None)
    # ``set_password`` with the password the user already had is no change.
    return raw is None or not check_password(raw, stored_hash)


def note_credential_change(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    """``pre_save`` on the user model: remember whether this save changes
    the password or deactivates the user, for ``revoke_on_credential_change``."""
    instance._ledgerline_revoke_tokens = False
    if raw or instance.pk is None or instance._state.adding:
        return
    if update_fields is not None and not {"password", "is_active"} & set(update_fields):
        return
    stored = sender._default_manager.filter(pk=instance.pk).values("password", "is_active").first()
    if stored is None:
        return
    deactivated = stored["is_active"] and not instance.is_active
    changed = _password_changed(instance, stored["password"], update_fields)
    instance._ledgerline_revoke_tokens = deactivated or changed


def revoke_on_credential_change(sender, instance, created=False, raw=False, **kwargs) -> None:
    """``post_save`` on the user model."""
    if raw or created:
        return
    if getattr(instance, "_ledgerline_revoke_tokens", False) or not instance.is_active:
        revoke_all_tokens([instance.pk])
    instance._ledgerline_revoke_tokens = False


def _users_without_roles(user_ids) -> list:
    from django.contrib.auth import get_user_model

    return list(
        get_user_model()
        ._default_manager.filter(pk__in=list(user_ids), groups__isnull=True)
        .values_list("pk", flat=True)
    )


def revoke_on_role_loss(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    """``m2m_changed`` on ``User.groups``: a user left with no group loses
    every token. ``reverse`` is the group's side (``group.user_set``)."""
    from django.contrib.auth.models import Group

    if action == "pre_clear" and reverse:
        # ``post_clear`` does not say whose membership went: remember it.
        instance._ledgerline_cleared_users = list(instance.user_set.values_list("pk", flat=True))
        return
    if action not in ("post_remove", "post_clear"):
        return
    if not reverse:
        if not instance.groups.exists():
            revoke_all_tokens([instance.pk])
        return
    if isinstance(instance, Group):
        affected = pk_set if action == "post_remove" else getattr(instance, "_ledgerline_cleared_users", [])
        revoke_all_tokens(_users_without_roles(affected or []))


def note_group_members(sender, instance, **kwargs) -> None:
    """``pre_delete`` on ``Group``: deleting a group removes its memberships
    without an ``m2m_changed`` signal; remember who was in it."""
    instance._ledgerline_members = list(instance.user_set.values_list("pk", flat=True))


def revoke_on_group_deleted(sender, instance, **kwargs) -> None:
    """``post_delete`` on ``Group``."""
    revoke_all_tokens(_users_without_roles(getattr(instance, "_ledgerline_members", [])))

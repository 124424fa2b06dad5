"""Audit helpers: who did it and why, for simple-history.

Services receive an explicit ``actor`` and ``reason``; ``record`` puts both
on the instance so the historical row written by ``save()`` carries them.
Requests get the user from ``HistoryRequestMiddleware``; tasks pass the
system user returned by ``system_user()``.
"""

from django.contrib.auth import get_user_model

SYSTEM_USERNAME = "system"


def system_user():
    """The account that nightly jobs and integrations act as."""
    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={"is_active": False, "first_name": "System"},
    )
    return user


def record(instance, *, actor, reason: str):
    """Attach the acting user and reason to ``instance`` before ``save()``."""
    instance._history_user = actor
    instance._change_reason = reason
    return instance


def operator_name() -> str:
    """The operating-system account running this process (a management
    command's operator), for access records and audit log lines; ``"unknown"``
    when the environment names none (a container without a user entry)."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"

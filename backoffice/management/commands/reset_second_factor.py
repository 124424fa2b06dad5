"""Remove every second-factor device of one user (a lost phone and lost
backup codes): their next sign-in goes to enrolment.

The admin's device screens do the same one device at a time (Administrators
may delete, never add: ``backoffice.roles``). Every removal is written to the
admin's change log with who asked (``--by``, else the system user) and why.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from backoffice.audit import system_user
from backoffice.second_factor import reset_devices


class Command(BaseCommand):
    help = "Delete every second-factor device (authenticator, backup codes) of a user so they enrol again."

    def add_arguments(self, parser):
        parser.add_argument("username", help="Whose devices to remove.")
        parser.add_argument("--reason", required=True, help="Why (kept in the admin's change log).")
        parser.add_argument(
            "--by", default="", help="Username of the administrator asking (default: system)."
        )

    def handle(self, *args, username, reason, by, **options):
        users = get_user_model()._default_manager
        user = users.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if by:
            actor = users.filter(username=by, is_active=True).first()
            if actor is None:
                raise CommandError(f"--by: no active user named {by!r}.")
        else:
            actor = system_user()
        try:
            removed = reset_devices(user=user, actor=actor, reason=reason)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Removed {removed} second-factor device(s) of {username}; they will enrol again."
            )
        )

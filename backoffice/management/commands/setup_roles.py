"""``manage.py setup_roles``: create or refresh the role groups.

Idempotent: every run sets each group's permissions to exactly what
``backoffice.roles.ROLE_PERMISSIONS`` says, so a changed mapping (or a new
model in ``legal``) reaches the groups on the next run.
"""

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from backoffice.roles import ROLE_NAMES, permissions_for_role


class Command(BaseCommand):
    help = "Create the role groups (Collector, Team lead, …) and set their permissions."

    def handle(self, *args, **options):
        # Permissions normally appear after ``migrate``; make sure they exist
        # even when this runs right after adding a model.
        for app_config in apps.get_app_configs():
            create_permissions(app_config, verbosity=0)
        try:
            with transaction.atomic():
                for role in ROLE_NAMES:
                    perms = permissions_for_role(role)
                    group, created = Group.objects.get_or_create(name=role)
                    before = set(group.permissions.values_list("pk", flat=True))
                    group.permissions.set(perms)
                    after = {p.pk for p in perms}
                    if created:
                        state = "created"
                    elif before != after:
                        state = f"updated (+{len(after - before)} −{len(before - after)})"
                    else:
                        state = "unchanged"
                    self.stdout.write(f"{role}: {len(perms)} permissions, {state}")
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc

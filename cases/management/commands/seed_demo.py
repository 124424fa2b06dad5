"""``manage.py seed_demo [--customers N]``: a demo portfolio to click through.

Builds the book described in ``cases.demo.portfolio`` (every bucket and status, made
by the real services) and one login per role. Running it again on a
database that already holds the demo says so and changes nothing.

The demo logins share one published password, so the command refuses to run
when ``DEBUG`` is false (a production configuration) unless the operator
says ``--i-know-this-is-not-production`` (a staging copy with DEBUG off).
"""

import time
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from backoffice.audit import system_user
from backoffice.roles import ROLE_NAMES
from cases.agencies.models import AgencyMember
from cases.demo import DEMO_PASSWORD, build_demo_portfolio, demo_exists
from cases.demo.features import seed_features


class Command(BaseCommand):
    help = "Fill the database with a demo portfolio and one demo user per role."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=2000, help="How many customers (default 2000).")
        parser.add_argument(
            "--business-date",
            type=date.fromisoformat,
            default=None,
            help="Last business date closed (YYYY-MM-DD; default yesterday).",
        )
        parser.add_argument("--seed", type=int, default=2026, help="Random seed (default 2026).")
        parser.add_argument(
            "--i-know-this-is-not-production",
            action="store_true",
            dest="not_production",
            help="Run even though DEBUG is false (demo logins with a published password are created).",
        )

    def handle(self, *args, customers, business_date, seed, verbosity, not_production=False, **options):
        if not settings.DEBUG and not not_production:
            raise CommandError(
                "Refusing to seed demo data: DEBUG is false, which looks like production, and the demo "
                f"creates logins with the published password {DEMO_PASSWORD!r}. On a machine that is "
                "not production, run with DEBUG=true or add --i-know-this-is-not-production."
            )
        if customers < 1:
            raise CommandError("--customers must be at least 1")
        if demo_exists():
            self.stdout.write("Demo data already exists; nothing to do.")
            return
        if Group.objects.filter(name__in=ROLE_NAMES).count() < len(ROLE_NAMES):
            call_command("setup_roles", verbosity=0, stdout=self.stdout)
        business_date = business_date or timezone.localdate() - timedelta(days=1)

        started = time.monotonic()
        on_terminal = self.stdout.isatty()

        def say(phase: str) -> None:
            """One line per phase when the output is not a terminal (a log, CI,
            ``make demo`` piped), where progress bars would stay silent."""
            if verbosity >= 1 and not on_terminal:
                self.stdout.write(f"[{time.monotonic() - started:5.0f} s] {phase}")

        def progress(iterable=None, **kwargs):
            say(f"{kwargs.get('desc', 'working')} …")
            return tqdm(iterable, disable=verbosity < 1 or not on_terminal, leave=False, **kwargs)

        say(f"building a demo portfolio of {customers} customers closed through {business_date}")

        summary, users = build_demo_portfolio(
            customers=customers, business_date=business_date, seed=seed, progress=progress
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo portfolio closed through {summary.business_date}: {summary.customers} customers, "
                f"{summary.debts} debts, {summary.payments} payments."
            )
        )
        self.stdout.write("Statuses: " + ", ".join(f"{k} {v}" for k, v in summary.statuses.items()))
        self.stdout.write("Buckets:  " + ", ".join(f"{k} {v}" for k, v in summary.buckets.items()))
        say("demo features: placements, statements, agencies, small balances, bureau, claims, Metro 2 …")
        for line in seed_features(business_date=business_date, actor=system_user(), seed=seed):
            self.stdout.write(line)
        self.stdout.write(f"\nLogins (password {DEMO_PASSWORD!r}) at http://127.0.0.1:8000/admin/")
        for username, role in users:
            self.stdout.write(f"  {username:<12} {role}")
        agency_login = AgencyMember.objects.filter(user__username="agency").select_related("agency").first()
        if agency_login is not None:
            self.stdout.write(f"  {'agency':<12} Agency ({agency_login.agency.name})")

"""``manage.py verify_ledger``: prove cached balances equal the ledger."""

from django.core.management.base import BaseCommand, CommandError

from cases.models import Debt
from cases.selectors import ledger_mismatches


class Command(BaseCommand):
    help = "Check that every debt's cached balances equal the sum of its ledger entries."

    def handle(self, *args, **options):
        count = 0
        for mismatch in ledger_mismatches():
            count += 1
            self.stdout.write(
                f"MISMATCH debt {mismatch.debt_id} ({mismatch.account_number}) {mismatch.what}: "
                f"cached {mismatch.cached} != ledger {mismatch.ledger}"
            )
        total = Debt.objects.count()
        if count:
            raise CommandError(f"{count} mismatch(es) across {total} debts.")
        self.stdout.write(self.style.SUCCESS(f"Ledger verified: {total} debts, no mismatches."))

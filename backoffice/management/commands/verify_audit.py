"""Check the history tables against their seals (tamper evidence).

First seals rows written since the last sealing (``--no-seal`` skips that),
then recomputes every model's chain from the current rows and names each
history row that was edited or deleted after it was sealed, and each place
where the chain itself was cut. Exits non-zero when it finds anything.

What a clean run proves and what it does not: see ``backoffice.services``.
"""

from django.core.management.base import BaseCommand, CommandError

from backoffice.services import seal_history, verify_history


class Command(BaseCommand):
    help = "Seal new history rows, then verify every sealed history row; names edited or deleted rows."

    def add_arguments(self, parser):
        parser.add_argument("--no-seal", action="store_true", help="Verify only; seal nothing new first.")

    def handle(self, *args, no_seal=False, **options):
        if not no_seal:
            sealed = seal_history()
            self.stdout.write(f"Sealed {sum(sealed.values())} new history rows.")
        findings, checked = verify_history()
        for finding in findings:
            self.stderr.write(str(finding))
        if findings:
            raise CommandError(f"Audit verification failed: {len(findings)} problem(s).", returncode=2)
        self.stdout.write(
            self.style.SUCCESS(
                f"OK: {sum(checked.values())} sealed history rows over {len(checked)} models verified."
            )
        )

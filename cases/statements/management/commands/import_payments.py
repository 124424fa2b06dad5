"""``manage.py import_payments FILE --source NAME``: import a bank or payment
platform statement and print its reconciliation.

Exits non-zero when the file is refused as a whole (nothing is written).
"""

from datetime import date

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone

from backoffice.audit import system_user
from cases.statements.models import StatementSource
from cases.statements.selectors import summary_lines
from cases.statements.services import import_statement


class Command(BaseCommand):
    help = "Import a payment statement file (CSV or XLSX) and post its lines."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--source", required=True, help="statement source name or code")
        parser.add_argument(
            "--date",
            type=date.fromisoformat,
            default=None,
            help="business date YYYY-MM-DD (default: today); lines dated later are refused",
        )
        parser.add_argument("--user", default=None, help="username to record as importer (default: system)")
        parser.add_argument(
            "--show-rejected", type=int, default=20, help="rejected lines to print (default 20)"
        )

    def handle(self, *args, **options):
        name = options["source"]
        source = StatementSource.objects.filter(Q(name=name) | Q(code=name)).first()
        if source is None:
            raise CommandError(f"No statement source named {name!r}.")
        actor = system_user()
        if options["user"]:
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"No user {options['user']!r}.")
        business_date = options["date"] or timezone.localdate()
        try:
            result = import_statement(
                path=options["file"], source=source, actor=actor, business_date=business_date
            )
        except ValidationError as exc:
            raise CommandError("File refused, nothing imported: " + " ".join(exc.messages)) from exc
        statement = result.file
        if not result.created:
            self.stdout.write(
                self.style.WARNING(f"Already imported as statement file #{statement.pk}; nothing was done.")
            )
        for line in summary_lines(statement):
            self.stdout.write(line)
        shown = result.rejected[: options["show_rejected"]]
        for line in shown:
            column = source.columns().get(line.field, "") if line.field else ""
            where = f" [{column}]" if column else ""
            self.stdout.write(f"  line {line.number}{where}: {line.reason}")
        if len(result.rejected) > len(shown):
            self.stdout.write(
                f"  … {len(result.rejected) - len(shown)} more rejected lines in the file's report"
            )

"""``manage.py metro2_export --creditor ID --period YYYY-MM [--out FILE]``.

Without ``--out``: the month's ``BureauSubmission`` of the creditor (generated
once; a second run prints the existing one). With ``--out``: a fresh file
written to FILE (to look at, or to send by hand): no submission is recorded,
but the file's handing-out is, as an access record (``DOWNLOAD_METRO2``).
"""

import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from backoffice.audit import system_user
from backoffice.models import AccessRecord
from backoffice.services import record_command_file
from cases.bureau.services import generate_submission, parse_period, write_file
from cases.models import Creditor


class Command(BaseCommand):
    help = "Write one creditor's Metro 2 file for a month (RULES.md §6)."

    def add_arguments(self, parser):
        parser.add_argument("--creditor", required=True, type=int, help="creditor id")
        parser.add_argument("--period", required=True, help="YYYY-MM")
        parser.add_argument("--out", help="write the file here instead of recording a submission")
        parser.add_argument("--chunk-size", type=int, default=None)

    def handle(self, *args, **options):
        try:
            period = parse_period(options["period"])
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        creditor = Creditor.objects.filter(pk=options["creditor"]).first()
        if creditor is None:
            raise CommandError(f"No creditor {options['creditor']}.")
        now = timezone.now()
        if options["out"]:
            with open(options["out"], "w", encoding="ascii", newline="\n") as out:
                totals, skipped, _deleted = write_file(
                    creditor=creditor,
                    period=period,
                    out=_Progress(out),
                    generated_at=now,
                    chunk_size=options["chunk_size"],
                )
            self._record_file(creditor, options["period"], options["out"], totals.base_records)
            self.stdout.write(
                f"Wrote {options['out']}: {totals.base_records} accounts, statuses "
                f"{dict(sorted(totals.statuses.items()))}, not reported {dict(skipped)}."
            )
            return
        submission = generate_submission(
            creditor=creditor,
            period=period,
            actor=system_user(),
            generated_at=now,
            chunk_size=options["chunk_size"],
        )
        self.stdout.write(
            f"Submission {submission.pk} ({submission.get_status_display()}): {submission.file.name}, "
            f"{submission.base_records} accounts, statuses {submission.status_counts}, "
            f"not reported {submission.skipped}."
        )

    def _record_file(self, creditor: Creditor, period: str, out_path: str, accounts: int) -> None:
        """A file written with ``--out`` holds every reported account's personal
        data and no ``BureauSubmission`` remembers it: one access record,
        written as the system user (an operator's shell has no Ledgerline
        login) naming the operating-system account that ran the command."""
        record_command_file(
            action=AccessRecord.Action.DOWNLOAD_METRO2,
            obj=creditor,
            out_path=out_path,
            rows=accounts,
            command=f"metro2_export --out --period {period}",
            ids={"creditor_id": creditor.pk, "period": period},
        )


class _Progress:
    """A text stream that counts records on stderr (tqdm) when it is a terminal."""

    def __init__(self, out):
        from tqdm import tqdm

        self.out = out
        self.bar = tqdm(unit=" records", disable=not sys.stderr.isatty(), file=sys.stderr)

    def write(self, text: str) -> None:
        self.out.write(text)
        if text == "\n":
            self.bar.update(1)

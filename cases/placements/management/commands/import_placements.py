"""``manage.py import_placements FILE --creditor ID [--dry-run] [--mode valid_rows] [--report OUT.csv]``

Imports a creditor's placement file in this process through the same
service as the admin upload and ``POST placements/``, with a progress bar.
Prints the counts and the first report lines; ``--report`` writes the whole
report as CSV (and writes an access record: see ``_record_report``). Exits
non-zero when the file or any row was rejected.
"""

import os
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from tqdm import tqdm

from backoffice.audit import system_user
from backoffice.models import AccessRecord
from backoffice.services import record_command_file
from cases.models import Creditor
from cases.placements.models import PlacementFile
from cases.placements.selectors import report_csv, report_lines
from cases.placements.services import submit_placement_file

SHOWN_LINES = 20


class Command(BaseCommand):
    help = "Import a creditor's placement file (CSV in UTF-8 or GBK, or XLSX)."

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE")
        parser.add_argument("--creditor", required=True, metavar="ID", help="the creditor's id or short code")
        parser.add_argument("--dry-run", action="store_true", help="validate and report; load nothing")
        parser.add_argument(
            "--mode",
            choices=PlacementFile.Mode.values,
            default=PlacementFile.Mode.ALL_OR_NOTHING,
            help="all_or_nothing (default): one rejected row and nothing loads; valid_rows: load the rest",
        )
        parser.add_argument("--report", metavar="OUT.csv", help="write the whole row report to this file")

    def handle(self, *args, **options):
        path = options["file"]
        if not os.path.isfile(path):
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        creditor = self._creditor(options["creditor"])
        bars = {}
        show = options["verbosity"] > 0

        def on_progress(phase: str, done: int, total: int | None) -> None:
            bar = bars.get(phase)
            if bar is None:
                for other in bars.values():
                    other.close()
                label = {"validate": _("validating"), "load": _("loading")}.get(phase, phase)
                bar = bars[phase] = tqdm(
                    total=total, unit="row", desc=label, file=self._progress_file(), disable=not show
                )
            if done - bar.n >= 500 or done == total:
                bar.update(done - bar.n)

        try:
            submission = submit_placement_file(
                creditor=creditor,
                path=path,
                original_name=os.path.basename(path),
                mode=options["mode"],
                dry_run=options["dry_run"],
                actor=system_user(),
                business_date=timezone.localdate(),
                background=False,
                on_progress=on_progress,
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        finally:
            for bar in bars.values():
                bar.close()
        placement_file = submission.placement_file
        if not submission.created:
            self.stdout.write(
                self.style.WARNING(
                    _(
                        "This file was already imported for %(creditor)s (placement file %(id)s); "
                        "nothing loaded."
                    )
                    % {"creditor": creditor, "id": placement_file.pk}
                )
            )
        self._summary(placement_file)
        if options["report"]:
            with open(options["report"], "w", encoding="utf-8", newline="") as out:
                out.writelines(report_csv(placement_file))
            self._record_report(placement_file, options["report"])
        if placement_file.status in (PlacementFile.Status.REJECTED, PlacementFile.Status.FAILED):
            raise CommandError(placement_file.error or _("The file was rejected."))
        if submission.created and placement_file.rejected:
            raise CommandError(_("%(n)s row(s) rejected.") % {"n": placement_file.rejected})

    def _record_report(self, placement_file: PlacementFile, out_path: str) -> None:
        """The report holds account numbers and the file's values: one access
        record, written as the system user (an operator's shell has no
        Ledgerline login) naming the operating-system account that ran it."""
        record_command_file(
            action=AccessRecord.Action.EXPORT_CSV,
            obj=placement_file,
            out_path=out_path,
            rows=report_lines(placement_file).count(),
            command="import_placements --report",
            ids={"placement_file_id": placement_file.pk},
        )

    def _creditor(self, value: str) -> Creditor:
        creditor = Creditor.objects.filter(short_code=value).first()
        if creditor is None and value.isdigit():
            creditor = Creditor.objects.filter(pk=int(value)).first()
        if creditor is None:
            raise CommandError(
                _("Unknown creditor %(value)r (give its id or short code).") % {"value": value}
            )
        return creditor

    def _progress_file(self):
        # tqdm writes raw control characters; Django's OutputWrapper adds newlines.
        return getattr(self.stderr, "_out", sys.stderr)

    def _summary(self, placement_file: PlacementFile) -> None:
        p = placement_file
        self.stdout.write(
            _(
                "Placement file %(id)s (%(name)s): %(status)s%(dry)s. Rows %(rows)s, loaded %(loaded)s, "
                "rejected %(rejected)s, already placed %(duplicates)s, corrected %(adjusted)s."
            )
            % {
                "id": p.pk,
                "name": p.original_name,
                "status": p.get_status_display(),
                "dry": _(" (dry run)") if p.dry_run else "",
                "rows": p.rows,
                "loaded": p.loaded,
                "rejected": p.rejected,
                "duplicates": p.duplicates,
                "adjusted": p.adjusted,
            }
        )
        lines = list(report_lines(p)[: SHOWN_LINES + 1])
        for line in lines[:SHOWN_LINES]:
            self.stdout.write(f"  line {line.line} [{line.column}] {line.account_number}: {line.reason}")
        if len(lines) > SHOWN_LINES:
            self.stdout.write(_("  … the whole report: --report OUT.csv, or the file's page in admin."))

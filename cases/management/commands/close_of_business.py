"""``manage.py close_of_business --date YYYY-MM-DD [--chunk-size N] [--via-workers]``

Closes every open or charged-off debt through the given business date
(RULES.md §1-§2). By default the work runs in this process, one id-range
chunk (one transaction) at a time, with a progress bar; ``--via-workers``
sends the chunks to the Celery workers and waits for them. Running it again
for the same date changes nothing.
"""

import sys
from datetime import date

from celery.exceptions import TimeoutError as CeleryTimeoutError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from tqdm import tqdm

from backoffice.audit import system_user
from cases.services.close_of_business import CobSummary, close_chunk, id_ranges
from cases.services.end_of_day import finish_business_day
from cases.tasks import run_close_of_business_via_workers


def _parse_date(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise CommandError(
            _("--date must be a calendar date written YYYY-MM-DD, not %(value)r.") % {"value": raw}
        ) from None


class Command(BaseCommand):
    help = "Close every open or charged-off debt through a business date (ageing, interest, penalty, fees)."

    def add_arguments(self, parser):
        parser.add_argument("--date", required=True, metavar="YYYY-MM-DD", help="the business date to close")
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=None,
            metavar="N",
            help="debts per chunk (one transaction each); default settings.COB_CHUNK_SIZE",
        )
        parser.add_argument(
            "--via-workers",
            action="store_true",
            help="dispatch the chunks to the Celery workers and wait for them",
        )
        parser.add_argument(
            "--timeout",
            type=float,
            default=3600,
            metavar="SECONDS",
            help="with --via-workers: how long to wait for the workers (default 3600)",
        )

    def handle(self, *args, **options):
        business_date = _parse_date(options["date"])
        chunk_size = options["chunk_size"]
        if chunk_size is not None and chunk_size < 1:
            raise CommandError(_("--chunk-size must be a positive number of debts."))
        show_progress = options["verbosity"] > 0
        if options["via_workers"]:
            summary = self._via_workers(business_date, chunk_size, options["timeout"], show_progress)
        else:
            summary = self._in_process(business_date, chunk_size, show_progress).as_dict()
        self.stdout.write(self.style.SUCCESS(self._describe(summary)))

    def _progress_file(self):
        # tqdm writes raw control characters; Django's OutputWrapper adds newlines.
        return getattr(self.stderr, "_out", sys.stderr)

    def _in_process(self, business_date: date, chunk_size: int | None, show_progress: bool) -> CobSummary:
        actor = system_user()
        summary = CobSummary(business_date)
        ranges = id_ranges(business_date, chunk_size)
        bar = tqdm(
            ranges,
            unit="chunk",
            desc=f"close {business_date}",
            file=self._progress_file(),
            disable=not show_progress,
        )
        for first_id, last_id in bar:
            chunk = close_chunk(first_id=first_id, last_id=last_id, business_date=business_date, actor=actor)
            summary.add(chunk)
            bar.set_postfix(debts=summary.debts, entries=summary.entries, refresh=False)
        finish_business_day(business_date=business_date, actor=actor)
        return summary

    def _via_workers(self, business_date: date, chunk_size: int | None, timeout: float, show_progress: bool):
        bar = tqdm(
            total=0,
            unit="chunk",
            desc=f"close {business_date} (workers)",
            file=self._progress_file(),
            disable=not show_progress,
        )

        def on_progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        try:
            return run_close_of_business_via_workers(
                business_date, chunk_size=chunk_size, timeout=timeout, on_progress=on_progress
            )
        except CeleryTimeoutError:
            raise CommandError(
                _(
                    "The workers did not finish within %(timeout)s seconds. The chunks that finished "
                    "are kept; run the command again to finish the rest."
                )
                % {"timeout": timeout}
            ) from None
        except RuntimeError as exc:
            raise CommandError(str(exc)) from None
        finally:
            bar.close()

    def _describe(self, summary: dict) -> str:
        return (
            _(
                "Close of business %(business_date)s: debts %(debts)s, ledger entries %(entries)s, "
                "penalty %(penalty)s, fees %(fees)s, interest %(interest)s, charged off %(charged_off)s."
            )
            % summary
        )

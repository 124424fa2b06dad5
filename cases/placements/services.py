"""Importing a placement file: one service behind admin, ``import_placements`` and ``POST placements/``.

``submit_placement_file`` checks the file as a whole (``backoffice.filereaders``:
size, row count, XLSX expansion, encoding, XLSX damage, the layout's
columns) *before* writing anything, answers the first import when the same
bytes were already imported for the creditor, else stores the file and
hands it to a Celery task with a time limit (the admin and the API: never
inside a request) or processes it here (the ``import_placements`` command).
``fail_stuck_files`` (a periodic task) fails files whose worker was lost.

``process_placement_file`` then works in three steps, so nothing is ever
half-loaded and memory stays flat with file size:

1. count the rows (for progress);
2. validate every row in one streaming pass (``rows.RowReader``, the same
   per-account rules as ``POST debts/``), writing the report in bulk,
   spooling the valid rows to a temporary file and checking account
   numbers against the database one batch at a time;
3. unless the run is a dry run, or all-or-nothing with a rejected row, load
   the spooled rows in one transaction, a batch at a time, with set-based
   inserts: customers, contact points, cases, debts, instalments, principal
   charges, and their history rows (``backoffice.bulk.copy_history``).

A row for an account already placed never makes a second debt: the same
amounts are reported as already placed; a different principal per
instalment becomes a ledger adjustment (``apply_entries``, source
``placement-file:<id>``), never an edit of the instalment.
"""

import logging
import os
import pickle
import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from backoffice.audit import record, system_user
from backoffice.bulk import copy_history
from backoffice.dispatch import enqueue_after_commit, registered_task
from backoffice.filereaders import FileRejected, TableFile, import_failure_reason, inspect_table, iter_rows
from backoffice.money import ZERO
from cases.models import CollectionCase, Creditor, Debt, Instalment, LedgerEntry
from cases.placements.bulkinsert import as_row, insert_rows
from cases.placements.models import PlacementFile, PlacementReportLine
from cases.placements.rows import ParsedRow, RowError, RowReader, layout_for, required_headers
from cases.services.assignment import AUTO_ASSIGN_TASK
from cases.services.ledger import EntrySpec, apply_entries, lock_debt
from cases.services.placement import build_debt, build_instalments, principal_specs
from customers.models import ContactPoint, Customer

logger = logging.getLogger(__name__)

# Rows per database round (lookups while validating, inserts while loading).
PROCESS_FILE_TASK = "cases.placements.process_placement_file"  # cases.placements.tasks
BATCH = 2000
# The progress counter is written every this many rows.
PROGRESS_EVERY = 5000
REPORT_FLUSH = 2000

Progress = Callable[[str, int, int | None], None]


def source_of(placement_file: PlacementFile) -> str:
    """The ledger ``source`` of every entry a placement file posts."""
    return f"placement-file:{placement_file.pk}"


# --- submitting -------------------------------------------------------------------


@dataclass
class Submission:
    placement_file: PlacementFile
    created: bool  # False: the same file was already imported; this is that import


def check_file(*, creditor: Creditor, path) -> TableFile:
    """The file as a whole, against the creditor's layout; ``FileRejected`` otherwise."""
    layout = layout_for(creditor)
    table = inspect_table(path)
    required, _form = required_headers(layout, table.header)
    table = inspect_table(path, required_columns=required)
    if next(iter_rows(table), None) is None:
        raise FileRejected("The file has a header but no rows.", code="no_rows")
    return table


def submit_placement_file(
    *,
    creditor: Creditor,
    path,
    original_name: str,
    mode: str = PlacementFile.Mode.ALL_OR_NOTHING,
    dry_run: bool = False,
    actor,
    business_date: date,
    background: bool = True,
    on_progress: Progress | None = None,
) -> Submission:
    """Check, store and import (or dry-run) the file at ``path`` for ``creditor``.

    Raises ``FileRejected`` (a ``ValidationError``; nothing written) when the
    file as a whole cannot be imported (including the row and expansion
    bounds of ``backoffice.filereaders``). ``background=True`` (what the
    admin and the API use: an import never runs inside a request) hands the
    stored file to a Celery task with a time limit after commit;
    ``background=False`` runs it here (``import_placements``, with its
    progress bar).
    """
    if mode not in PlacementFile.Mode.values:
        raise ValidationError({"mode": f"Mode must be one of {', '.join(PlacementFile.Mode.values)}."})
    table = check_file(creditor=creditor, path=path)
    if not dry_run:
        first = _effective_import(creditor, table.sha256)
        if first is not None:
            return Submission(first, created=False)
    reason = "placement file dry run" if dry_run else "placement file uploaded"
    placement_file = PlacementFile(
        creditor=creditor,
        original_name=os.path.basename(original_name)[:255] or "placement",
        sha256=table.sha256,
        size=table.size,
        kind=table.kind,
        encoding=table.encoding_name,
        mode=mode,
        dry_run=dry_run,
        business_date=business_date,
        uploaded_by=actor if getattr(actor, "pk", None) else None,
    )
    try:
        with transaction.atomic():
            with open(table.path, "rb") as handle:
                placement_file.file.save(placement_file.original_name, File(handle), save=False)
            record(placement_file, actor=actor, reason=reason)
            placement_file.save()
    except IntegrityError:
        # The same file, submitted at the same moment by someone else.
        first = _effective_import(creditor, table.sha256)
        if first is None:
            raise
        return Submission(first, created=False)
    if background:
        enqueue_after_commit(PROCESS_FILE_TASK, placement_file.pk)
    else:
        placement_file = process_placement_file(placement_file_id=placement_file.pk, on_progress=on_progress)
    return Submission(placement_file, created=True)


def _effective_import(creditor: Creditor, sha256: str) -> PlacementFile | None:
    return (
        PlacementFile.objects.filter(creditor=creditor, sha256=sha256, dry_run=False)
        .exclude(status__in=[PlacementFile.Status.REJECTED, PlacementFile.Status.FAILED])
        .order_by("id")
        .first()
    )


# --- processing -------------------------------------------------------------------


def _save(placement_file: PlacementFile, *, actor, reason: str, **changes) -> None:
    for name, value in changes.items():
        setattr(placement_file, name, value)
    record(placement_file, actor=actor, reason=reason)
    placement_file.save()


def process_placement_file(*, placement_file_id: int, on_progress: Progress | None = None) -> PlacementFile:
    """Validate and (unless dry run or refused) load a stored placement file.

    Safe to run twice: a file that already finished is returned as it is.
    Every outcome is on the returned row: status, counts, ``error`` and the
    report lines; the function itself raises nothing for bad input.
    """
    placement_file = PlacementFile.objects.select_related("creditor", "uploaded_by").get(pk=placement_file_id)
    if placement_file.status in PlacementFile.FINISHED:
        return placement_file
    actor = placement_file.uploaded_by or system_user()
    progress = on_progress or (lambda phase, done, total: None)
    try:
        _process(placement_file, actor=actor, progress=progress)
    except FileRejected as exc:
        _finish_refused(placement_file, actor, PlacementFile.Status.REJECTED, " ".join(exc.messages))
    except Exception as exc:  # noqa: BLE001 (the file's page must say what went wrong)
        logger.exception("placement file %s failed", placement_file.pk)
        _finish_refused(
            placement_file,
            actor,
            PlacementFile.Status.FAILED,
            import_failure_reason(exc, nothing_done="no row was loaded"),
        )
    return placement_file


def fail_stuck_files(*, now=None) -> int:
    """Mark files that stayed queued, validating or loading for longer than
    ``settings.IMPORT_STUCK_AFTER_MINUTES`` as failed, with the reason.

    Such a file's worker died (killed, out of memory, host lost): its
    loading transaction rolled back, so nothing of it is in the books, and a
    failed file no longer blocks the same bytes (the unique constraint
    ignores failed files). The task's hard time limit is shorter than the
    timeout (checked in settings), so no live import is failed. Returns how
    many files were marked.
    """
    now = now or timezone.now()
    minutes = settings.IMPORT_STUCK_AFTER_MINUTES
    cutoff = now - timedelta(minutes=minutes)
    stuck = PlacementFile.objects.filter(
        Q(status=PlacementFile.Status.QUEUED, created_at__lt=cutoff)
        | Q(
            status__in=[PlacementFile.Status.VALIDATING, PlacementFile.Status.LOADING],
            started_at__lt=cutoff,
        )
    ).values_list("pk", flat=True)
    done = 0
    for pk in list(stuck):
        with transaction.atomic():
            placement_file = PlacementFile.objects.select_for_update().get(pk=pk)
            if placement_file.status in PlacementFile.FINISHED:
                continue
            was = placement_file.get_status_display().lower()
            _save(
                placement_file,
                actor=system_user(),
                reason="placement file stuck: failed by the sweeper",
                status=PlacementFile.Status.FAILED,
                error=(
                    f"The import stopped while {was} and did not finish within {minutes} minutes "
                    "(its worker was lost); no row was loaded. The same file may be sent again."
                ),
                loaded=0,
                adjusted=0,
                finished_at=now,
            )
            done += 1
    return done


def _finish_refused(placement_file, actor, status, message) -> None:
    placement_file.refresh_from_db()
    _save(
        placement_file,
        actor=actor,
        reason=f"placement file {status}",
        status=status,
        error=message[:5000],
        loaded=0,
        adjusted=0,
        finished_at=timezone.now(),
    )


def _process(placement_file: PlacementFile, *, actor, progress: Progress) -> None:
    creditor = placement_file.creditor
    layout = layout_for(creditor)
    table = check_file(creditor=creditor, path=placement_file.file.path)
    _required, form = required_headers(layout, table.header)
    reader = RowReader(creditor=creditor, layout=layout, schedule_form=form)
    _save(
        placement_file,
        actor=actor,
        reason="placement file: validating",
        status=PlacementFile.Status.VALIDATING,
        started_at=timezone.now(),
    )
    total = 0
    for _row in iter_rows(table):
        total += 1
    PlacementFile.objects.filter(pk=placement_file.pk).update(rows_total=total, rows_processed=0)
    placement_file.rows_total = total
    with tempfile.TemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR) as spool:
        check = _Validation(placement_file, reader, spool, progress, actor=actor)
        check.run(table)
        refused = placement_file.mode == PlacementFile.Mode.ALL_OR_NOTHING and check.rejected_lines
        counts = {
            "rows": total,
            "rows_processed": total,
            "rejected": len(check.rejected_lines),
            "duplicates": check.duplicates,
        }
        if placement_file.dry_run or refused:
            status = PlacementFile.Status.REJECTED if refused else PlacementFile.Status.DONE
            error = (
                f"{len(check.rejected_lines)} row(s) rejected; all or nothing: no row was loaded."
                if refused
                else ""
            )
            _save(
                placement_file,
                actor=actor,
                reason="placement file dry run" if placement_file.dry_run else "placement file rejected",
                status=status,
                error=error,
                loaded=0,
                adjusted=len(check.corrections) if placement_file.dry_run else 0,
                finished_at=timezone.now(),
                **counts,
            )
            return
        _save(
            placement_file, actor=actor, reason="placement file: loading", status=PlacementFile.Status.LOADING
        )
        spool.seek(0)
        with transaction.atomic():
            loader = _Loader(placement_file, actor=actor, reader=reader, progress=progress)
            loaded = loader.load(spool, check.spooled, check.rejected_lines)
            adjusted = loader.adjust(check.corrections)
            _save(
                placement_file,
                actor=actor,
                reason="placement file loaded",
                status=PlacementFile.Status.DONE,
                loaded=loaded,
                adjusted=adjusted,
                finished_at=timezone.now(),
                **counts,
            )
            case_ids = loader.unassigned_case_ids
            if case_ids:
                transaction.on_commit(lambda: _auto_assign(case_ids))


def _auto_assign(case_ids: list[int]) -> None:
    for start in range(0, len(case_ids), BATCH):
        registered_task(AUTO_ASSIGN_TASK).delay(case_ids=case_ids[start : start + BATCH])


# --- step 2: validation -----------------------------------------------------------


@dataclass
class Correction:
    line: int
    debt_id: int
    deltas: list[tuple[int, int, Decimal]]  # (instalment id, number, principal change)


class _Validation:
    def __init__(self, placement_file, reader: RowReader, spool, progress: Progress, *, actor):
        self.placement_file = placement_file
        self.actor = actor
        self.reader = reader
        self.spool = spool
        self.progress = progress
        self.report: list[PlacementReportLine] = []
        self.rejected_lines: set[int] = set()
        self.first_line: dict[str, int] = {}  # account number → first line (the only per-row memory)
        self.pending: list[ParsedRow] = []
        self.pending_lines: set[int] = set()
        self.corrections: dict[int, Correction] = {}
        self.duplicate_lines: set[int] = set()
        self.spooled = 0

    @property
    def duplicates(self) -> int:
        return len(self.duplicate_lines - self.rejected_lines)

    def run(self, table: TableFile) -> None:
        done = 0
        for line, row in iter_rows(table):
            parsed, errors = self.reader.parse(line, row)
            if errors:
                account = row.get(self.reader.columns.get("account_number", ""), "")
                self._reject(line, account, errors)
            else:
                self._check_repeat(parsed)
            if len(self.pending) >= BATCH:
                self._resolve_pending()
            done += 1
            if done % PROGRESS_EVERY == 0:
                PlacementFile.objects.filter(pk=self.placement_file.pk).update(rows_processed=done)
            self.progress("validate", done, self.placement_file.rows_total)
        self._resolve_pending()
        self._flush_report(force=True)

    def _reject(self, line: int, account: str, errors: list[RowError]) -> None:
        self.rejected_lines.add(line)
        self.corrections.pop(line, None)
        for error in errors:
            self._note(line, account, PlacementReportLine.Outcome.REJECTED, error.column, error.reason)

    def _note(self, line, account, outcome, column, reason) -> None:
        self.report.append(
            PlacementReportLine(
                placement_file=self.placement_file,
                line=line,
                column=column[:60],
                account_number=(account or "")[:60],
                outcome=outcome,
                reason=reason[:500],
            )
        )
        self._flush_report()

    def _flush_report(self, force: bool = False) -> None:
        if self.report and (force or len(self.report) >= REPORT_FLUSH):
            rows = insert_rows(PlacementReportLine, [as_row(line) for line in self.report])
            copy_history(
                PlacementReportLine,
                rows,
                history_type="+",
                user=self.actor,
                reason=f"placement file {self.placement_file.pk} report",
            )
            self.report = []

    def _check_repeat(self, parsed: ParsedRow) -> None:
        account = parsed.plan.account_number
        column = self.reader.header("account_number")
        first = self.first_line.get(account)
        if first is None:
            self.first_line[account] = parsed.line
            self.pending.append(parsed)
            self.pending_lines.add(parsed.line)
            return
        self._reject(
            parsed.line,
            account,
            [
                RowError(
                    column, f"Account {account} appears more than once in the file (first at line {first})."
                )
            ],
        )
        if first not in self.rejected_lines:
            if (
                first not in self.pending_lines
                and first not in self.corrections
                and first not in (self.duplicate_lines)
            ):
                self.spooled -= 1  # already spooled as new; the loader skips rejected lines
            self._reject(
                first,
                account,
                [RowError(column, f"Account {account} appears again at line {parsed.line}.")],
            )

    def _resolve_pending(self) -> None:
        """Sort the pending rows into new accounts (spooled) and accounts
        already placed (reported, or corrected by an adjustment)."""
        batch = [p for p in self.pending if p.line not in self.rejected_lines]
        self.pending, self.pending_lines = [], set()
        if not batch:
            return
        creditor = self.placement_file.creditor
        accounts = [p.plan.account_number for p in batch]
        existing = dict(
            Debt.objects.filter(creditor=creditor, account_number__in=accounts).values_list(
                "account_number", "id"
            )
        )
        if existing:
            self._compare(batch, existing)
        for parsed in batch:
            if parsed.plan.account_number not in existing:
                pickle.dump(parsed, self.spool, protocol=pickle.HIGHEST_PROTOCOL)
                self.spooled += 1

    def _compare(self, batch: list[ParsedRow], existing: dict[str, int]) -> None:
        debt_ids = list(existing.values())
        instalments = defaultdict(list)
        for row in (
            Instalment.objects.filter(debt_id__in=debt_ids)
            .order_by("debt_id", "number")
            .values("id", "debt_id", "number", "due_on", "principal", "interest", "principal_balance")
        ):
            instalments[row["debt_id"]].append(row)
        earlier = dict(
            LedgerEntry.objects.filter(
                debt_id__in=debt_ids,
                kind=LedgerEntry.Kind.ADJUSTMENT,
                component="principal",
                source__startswith="placement-file:",
            )
            .values("instalment_id")
            .annotate(total=Sum("amount"))
            .values_list("instalment_id", "total")
        )
        column = self.reader.header("account_number")
        schedule_column = self.reader.header(
            "schedule" if self.reader.schedule_form == "schedule" else "principal"
        )
        for parsed in batch:
            account = parsed.plan.account_number
            debt_id = existing.get(account)
            if debt_id is None:
                continue
            placed = instalments[debt_id]
            lines = parsed.plan.schedule
            if [r["due_on"] for r in placed] != [line["due_on"] for line in lines]:
                self._reject(
                    parsed.line,
                    account,
                    [
                        RowError(
                            schedule_column,
                            f"Account {account} is already placed with other due dates; a later file may "
                            "correct amounts, not the schedule.",
                        )
                    ],
                )
                continue
            deltas, problems = [], []
            for row, line in zip(placed, lines, strict=True):
                if line["interest"] != row["interest"]:
                    problems.append(
                        f"Instalment {row['number']}: interest {line['interest']} differs from the "
                        f"{row['interest']} placed; interest is not corrected from files."
                    )
                stated = row["principal"] + (earlier.get(row["id"]) or ZERO)
                delta = line["principal"] - stated
                if delta < 0 and -delta > row["principal_balance"]:
                    problems.append(
                        f"Instalment {row['number']}: lowering the principal by {-delta} is more than the "
                        f"{row['principal_balance']} still owed."
                    )
                elif delta:
                    deltas.append((row["id"], row["number"], delta, stated, line["principal"]))
            if problems:
                self._reject(parsed.line, account, [RowError(schedule_column, p) for p in problems])
                continue
            if not deltas:
                self.duplicate_lines.add(parsed.line)
                self._note(
                    parsed.line,
                    account,
                    PlacementReportLine.Outcome.DUPLICATE,
                    column,
                    f"Account {account} is already placed (debt {debt_id}) with these amounts; "
                    "nothing loaded.",
                )
                continue
            self.corrections[parsed.line] = Correction(
                parsed.line, debt_id, [(pk, number, delta) for pk, number, delta, _a, _b in deltas]
            )
            change = "; ".join(
                f"instalment {number} principal {before} → {after} ({delta:+})"
                for _pk, number, delta, before, after in deltas
            )
            self._note(
                parsed.line,
                account,
                PlacementReportLine.Outcome.ADJUSTED,
                schedule_column,
                f"Account {account} is already placed (debt {debt_id}); ledger adjustment: {change}.",
            )


# --- step 3: loading --------------------------------------------------------------


class _Loader:
    """Writes spooled rows a batch at a time, inside the caller's transaction."""

    def __init__(self, placement_file, *, actor, reader: RowReader, progress: Progress):
        self.placement_file = placement_file
        self.actor = actor
        self.reader = reader
        self.progress = progress
        self.source = source_of(placement_file)
        self.reason = f"placement file {placement_file.pk}"
        self.unassigned_case_ids: list[int] = []

    def load(self, spool, count: int, rejected: set[int]) -> int:
        loaded = 0
        batch: list[ParsedRow] = []
        self.progress("load", 0, count)
        while True:
            try:
                parsed = pickle.load(spool)  # noqa: S301 (our own spool file, written above)
            except EOFError:
                break
            if parsed.line in rejected:
                continue
            batch.append(parsed)
            if len(batch) >= BATCH:
                loaded += self._write(batch)
                batch = []
                self.progress("load", loaded, count)
        if batch:
            loaded += self._write(batch)
            self.progress("load", loaded, count)
        return loaded

    def _write(self, batch: list[ParsedRow]) -> int:
        actor, reason = self.actor, self.reason
        creditor = self.placement_file.creditor
        business_date = self.placement_file.business_date

        # Customers: one per national ID (and jurisdiction); an existing one is reused.
        def key(parsed: ParsedRow):
            c = parsed.customer
            return (c["national_id"], c["jurisdiction"]) if c["national_id"] else ("line", parsed.line)

        ids = {c["national_id"] for p in batch if (c := p.customer)["national_id"]}
        known = {}
        if ids:
            for pk, national_id, jurisdiction in (
                Customer.objects.select_for_update()
                .filter(national_id__in=ids)
                .order_by("id")
                .values_list("id", "national_id", "jurisdiction")
            ):
                known.setdefault((national_id, jurisdiction), pk)
        new_customers = {}
        for parsed in batch:
            k = key(parsed)
            if k not in known and k not in new_customers:
                new_customers[k] = parsed.customer
        created = insert_rows(Customer, list(new_customers.values()))
        copy_history(Customer, created, history_type="+", user=actor, reason=reason)
        customer_of = {**known, **{k: c.pk for k, c in zip(new_customers, created, strict=True)}}
        reused = set(known.values())

        # Contact points not already on file for the customer.
        have = set()
        if reused:
            have = set(
                ContactPoint.objects.filter(customer_id__in=reused).values_list(
                    "customer_id", "kind", "value"
                )
            )
        points, has_primary = [], set()
        for parsed in batch:
            customer_id = customer_of[key(parsed)]
            for kind, value in parsed.contacts:
                if (customer_id, kind, value) in have:
                    continue
                have.add((customer_id, kind, value))
                # A new customer's first point of each kind is their primary one.
                primary = customer_id not in reused and (customer_id, kind) not in has_primary
                has_primary.add((customer_id, kind))
                points.append(
                    {
                        "customer_id": customer_id,
                        "kind": kind,
                        "value": value,
                        "primary": primary,
                        "source": "placement",
                    }
                )
        points = insert_rows(ContactPoint, points)
        copy_history(ContactPoint, points, history_type="+", user=actor, reason=reason)

        # Cases: the customer's open case, or a new one (as ``open_case_for``).
        case_of = {}
        if reused:
            # Newest first, so the oldest open case wins (as ``open_case_for``).
            for case_id, customer_id in (
                CollectionCase.objects.filter(customer_id__in=reused)
                .exclude(stage=CollectionCase.Stage.CLOSED)
                .order_by("-id")
                .values_list("id", "customer_id")
            ):
                case_of[customer_id] = case_id
        new_cases = sorted({customer_of[key(p)] for p in batch} - set(case_of))
        cases = insert_rows(
            CollectionCase, [{"customer_id": pk, "opened_on": business_date} for pk in new_cases]
        )
        copy_history(CollectionCase, cases, history_type="+", user=actor, reason=reason)
        case_of.update({customer_id: case.pk for customer_id, case in zip(new_cases, cases, strict=True)})
        self.unassigned_case_ids.extend(case.pk for case in cases)

        # Debts, their instalments and principal charges (``place_debt``'s rows).
        products = self.reader.products_by_id
        debts = []
        for parsed in batch:
            customer_id = customer_of[key(parsed)]
            debt = build_debt(
                plan=parsed.plan,
                creditor=creditor,
                product=products[parsed.product_id],
                customer_id=customer_id,
                case_id=case_of[customer_id],
            )
            # The cache equals the principal charges written below.
            debt.principal_balance = parsed.plan.principal_total
            debts.append(debt)
        saved = insert_rows(Debt, [as_row(debt) for debt in debts])
        for debt, row in zip(debts, saved, strict=True):
            debt.pk = row.pk
        copy_history(Debt, saved, history_type="+", user=actor, reason=reason)
        instalments = []
        for debt, parsed in zip(debts, batch, strict=True):
            rows = build_instalments(plan=parsed.plan, debt=debt)
            for row in rows:
                row.principal_balance = row.principal
            instalments.append(rows)
        flat = [r for rows in instalments for r in rows]
        saved = insert_rows(Instalment, [as_row(row) for row in flat])
        for row, done in zip(flat, saved, strict=True):
            row.pk = done.pk
        copy_history(Instalment, saved, history_type="+", user=actor, reason=reason)
        entries = []
        for debt, parsed, rows in zip(debts, batch, instalments, strict=True):
            for spec in principal_specs(
                debt=debt, rows=rows, opened_on=parsed.plan.opened_on, source=self.source
            ):
                entries.append(
                    {
                        "debt_id": debt.pk,
                        "instalment_id": spec.instalment.pk,
                        "payment_id": None,
                        "component": spec.component,
                        "amount": spec.amount,
                        "effective_on": spec.effective_on,
                        "kind": str(spec.kind),
                        "source": spec.source,
                        "idempotency_key": spec.key,
                        "reason": reason,
                        "created_by_id": actor.pk,
                    }
                )
        entries = insert_rows(LedgerEntry, entries)
        copy_history(LedgerEntry, entries, history_type="+", user=actor, reason=reason)
        return len(debts)

    def adjust(self, corrections: dict[int, Correction]) -> int:
        """Post each correction as adjustment entries on the locked debt."""
        done = 0
        for line in sorted(corrections):
            correction = corrections[line]
            debt = lock_debt(correction.debt_id)
            rows = {
                row.pk: row
                for row in Instalment.objects.select_for_update().filter(
                    pk__in=[pk for pk, _n, _d in correction.deltas]
                )
            }
            apply_entries(
                debt=debt,
                specs=[
                    EntrySpec(
                        component="principal",
                        amount=delta,
                        kind=LedgerEntry.Kind.ADJUSTMENT,
                        effective_on=self.placement_file.business_date,
                        key=f"{self.source}:adjust:{debt.pk}:{number}",
                        source=self.source,
                        instalment=rows[pk],
                    )
                    for pk, number, delta in correction.deltas
                ],
                actor=self.actor,
                reason=self.reason,
                instalments=rows,
            )
            done += 1
        return done

"""Importing payment statement files and working the suspense queue.

``import_statement`` reads a whole file before it writes anything:

1. ``backoffice.filereaders.inspect_table`` refuses a file that is empty, too
   large, neither UTF-8 nor GBK, damaged, or lacks a mapped column
   (``FileRejected``: nothing is written);
2. every line is validated (transaction id, date, amount, currency,
   channel) and matched to a debt, by account number, then payment
   reference, then the customer's national ID (one open debt);
3. one transaction then stores the file and its lines and posts each
   matched line through ``post_payment`` with the reference
   ``<source code>:<transaction id>``. ``post_payment`` is idempotent by
   that reference and locks the debt, so the same line in two files (or in
   two imports running at once) is posted once; the later file reports it
   as already imported.

Postings run in debt-id order and suspense lines are written after them, so
two imports running at once take their locks in the same order and wait for
each other instead of deadlocking.

Uploads through the admin and the API never import in the request:
``submit_statement_file`` runs step 1, stores the file ``queued`` and hands it
to a Celery task with a time limit (``process_statement_file``: steps 2 and
3, the file ``importing`` meanwhile). A file the worker refuses or loses ends
``failed`` with the reason and no line; ``fail_stuck_files`` (a periodic
task) fails files left queued or importing past
``IMPORT_STUCK_AFTER_MINUTES``. A failed file does not block the same bytes.
``import_statement`` does all three steps here (``import_payments``, demo).

Why all lines in one transaction: a file is either wholly reflected (every
line posted, in suspense or rejected, with counts that reconcile) or not
at all; a crash half-way leaves nothing to clean up and the file can simply
be imported again.
"""

import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from backoffice.access import may_resolve_suspense
from backoffice.audit import record, system_user
from backoffice.dispatch import enqueue_after_commit
from backoffice.errors import Conflict
from backoffice.filereaders import FileRejected, TableFile, import_failure_reason, inspect_table, iter_rows
from backoffice.money import ZERO, PlainAmountError, parse_plain_amount
from cases.models import CollectionPolicy, Debt, Payment
from cases.services.payments import post_payment
from cases.statements.models import (
    TRANSACTION_ID_MAX,
    StatementFile,
    StatementLine,
    StatementSource,
    payment_reference_for,
)

logger = logging.getLogger(__name__)

PROCESS_FILE_TASK = "statements.process_statement_file"  # cases.statements.tasks
# History change reasons hold 100 characters.
_REASON_MAX = 100
# A payment reference is searched for account numbers in these tokens.
_TOKEN = re.compile(r"[0-9A-Za-z][0-9A-Za-z_\-/]*")
# Errors ``post_payment`` raises, by field → the line's field they concern.
_SERVICE_FIELDS = {"amount": "amount", "currency": "currency", "received_on": "received_on"}


@dataclass
class ParsedLine:
    """One data row as validated and matched, before anything is written."""

    number: int
    raw: dict[str, str]
    transaction_id: str = ""
    received_on: date | None = None
    amount: Decimal | None = None
    currency: str = ""
    channel: str = ""
    account_number: str = ""
    payment_reference: str = ""
    national_id: str = ""
    payer_name: str = ""
    status: str = ""
    field: str = ""  # line field of a rejection ("transaction_id" …)
    reason: str = ""
    debt_id: int | None = None
    already_imported: bool = False
    payment: Payment | None = None
    saved: bool = False  # its row is written already (a suspense line that lost a race)

    def reject(self, field_name: str, reason: str) -> None:
        if self.status != StatementLine.Status.REJECTED:
            self.status, self.field, self.reason = StatementLine.Status.REJECTED, field_name, reason


@dataclass
class ImportResult:
    file: StatementFile
    created: bool  # False: this very file was imported before; nothing was done
    lines: list[ParsedLine] = field(default_factory=list)

    @property
    def rejected(self) -> list[ParsedLine]:
        return [line for line in self.lines if line.status == StatementLine.Status.REJECTED]


def _short(text: str) -> str:
    return text if len(text) <= _REASON_MAX else text[: _REASON_MAX - 1] + "…"


# --- reading and validating ----------------------------------------------------


def parse_amount(text: str) -> Decimal:
    """A positive amount to the cent, written as a plain decimal.

    ``backoffice.money.parse_plain_amount`` decides what a plain decimal is
    (no exponent, no spaces, no thousands separators, at most two places):
    a statement line that is not exactly what it says is refused, never
    rounded or guessed. Raises ``ValueError`` with the reason.
    """
    try:
        value = parse_plain_amount(text)
    except PlainAmountError as exc:
        raise ValueError(str(exc)) from None
    if value <= 0:
        raise ValueError(f"{text} is not a payment: amounts must be greater than zero.")
    return value


def parse_date(text: str, fmt: str) -> date:
    """The source's format; ISO dates too (spreadsheet cells read as ISO)."""
    try:
        return datetime.strptime(text, fmt).date()
    except ValueError:
        pass
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date in the format {fmt}.") from None


def _channel_of(text: str) -> str | None:
    wanted = text.strip().lower()
    for value, label in Payment.Channel.choices:
        if wanted in (value, str(label).lower()):
            return value
    return None


def _known_currencies(source: StatementSource) -> set[str]:
    """Currencies we collect in: those of the policies, and the source's own."""
    known = set(CollectionPolicy.objects.values_list("currency", flat=True).distinct())
    if source.default_currency:
        known.add(source.default_currency)
    return known


def _read_lines(table: TableFile, source: StatementSource, business_date: date) -> list[ParsedLine]:
    columns = source.columns()
    known = _known_currencies(source)
    first_seen: dict[str, int] = {}
    lines = []
    for number, row in iter_rows(table):
        line = ParsedLine(number=number, raw=row)
        values = {name: row.get(column, "").strip() for name, column in columns.items()}
        line.account_number = values.get("account_number", "")[:100]
        line.payment_reference = values.get("payment_reference", "")[:255]
        line.national_id = values.get("national_id", "")[:40]
        line.payer_name = values.get("payer_name", "")[:200]

        transaction_id = values["transaction_id"]
        if not transaction_id:
            line.reject("transaction_id", "The transaction id is missing.")
        elif len(transaction_id) > TRANSACTION_ID_MAX:
            line.reject(
                "transaction_id", f"The transaction id is longer than {TRANSACTION_ID_MAX} characters."
            )
        elif transaction_id in first_seen:
            line.reject("transaction_id", f"The transaction id repeats line {first_seen[transaction_id]}.")
        else:
            first_seen[transaction_id] = number
        line.transaction_id = transaction_id[:100]

        try:
            line.amount = parse_amount(values["amount"])
        except ValueError as exc:
            line.reject("amount", str(exc) if values["amount"] else "The amount is missing.")

        if not values["received_on"]:
            line.reject("received_on", "The date is missing.")
        else:
            try:
                line.received_on = parse_date(values["received_on"], source.date_format)
            except ValueError as exc:
                line.reject("received_on", str(exc))
            else:
                if line.received_on > business_date:
                    line.reject("received_on", f"The date {line.received_on} is after the business date.")

        currency = values.get("currency", "").upper() or source.default_currency
        line.currency = currency[:3]
        if not currency:
            line.reject("currency", "The currency is missing.")
        elif currency not in known:
            line.reject("currency", f"Unknown currency {currency!r}: no policy collects in it.")

        channel_text = values.get("channel", "")
        channel = _channel_of(channel_text) if channel_text else source.channel
        if channel is None:
            line.reject("channel", f"Unknown channel {channel_text!r}.")
        line.channel = channel or ""
        lines.append(line)
    return lines


def _mark_already_imported(lines: list[ParsedLine], source: StatementSource) -> None:
    """Lines whose transaction id an earlier file already carries (posted,
    in suspense or matched) are rejected as already imported."""
    pending = {line.transaction_id: line for line in lines if not line.status}
    ids = list(pending)
    for start in range(0, len(ids), 1000):
        earlier = StatementLine.objects.filter(
            source=source, transaction_id__in=ids[start : start + 1000], status__in=StatementLine.LIVE
        ).values_list("transaction_id", "file_id", "line_number", "status")
        for transaction_id, file_id, line_number, status in earlier:
            line = pending[transaction_id]
            line.reject(
                "transaction_id",
                f"Already imported: statement file #{file_id} line {line_number} "
                f"({StatementLine.Status(status).label.lower()}).",
            )
            line.already_imported = True


# --- matching -------------------------------------------------------------------


def _candidates(debts, condition: Q) -> list[tuple[int, str]]:
    return list(debts.filter(condition).values_list("pk", "customer__national_id").order_by("pk")[:5])


def match_debt(line: ParsedLine, source: StatementSource) -> tuple[int | None, str]:
    """``(debt id, how)`` for exactly one debt, or ``(None, why not)``.

    Account number first (exact), then the payment reference (our letters
    print the account number as the reference, so an account number found
    among its words counts), then the national ID (the customer's only open
    debt). The first identifier that finds any debt decides; several debts
    mean suspense, never a guess. A line whose national ID belongs to
    someone other than the debt its account number names goes to suspense.
    """
    debts = Debt.objects.all()
    if source.creditor_id:
        debts = debts.filter(creditor_id=source.creditor_id)
    notes = []
    tries = []
    if line.account_number:
        tries.append(("account number", Q(account_number=line.account_number), line.account_number))
    if line.payment_reference:
        tokens = {line.payment_reference, *_TOKEN.findall(line.payment_reference)}
        tries.append(("payment reference", Q(account_number__in=tokens), line.payment_reference))
    for how, condition, shown in tries:
        found = _candidates(debts, condition)
        if len(found) > 1:
            return None, f"The {how} {shown!r} matches {len(found)} debts."
        if found:
            debt_id, national_id = found[0]
            if line.national_id and national_id and national_id != line.national_id:
                return None, (
                    f"The {how} {shown!r} matches debt #{debt_id}, but the national ID on the line "
                    "is another customer's."
                )
            return debt_id, f"matched by {how}"
        notes.append(f"no debt has {how} {shown!r}")
    if line.national_id:
        found = _candidates(debts, Q(customer__national_id=line.national_id, status__in=Debt.ACTIVE_STATUSES))
        if len(found) > 1:
            return None, f"The national ID matches a customer with {len(found)} open debts."
        if found:
            return found[0][0], "matched by national ID"
        notes.append("no customer with an open debt has this national ID")
    if not notes:
        return None, "The line carries no account number, payment reference or national ID."
    return None, "No debt matches: " + "; ".join(notes) + "."


# --- writing --------------------------------------------------------------------


def _line_row(line: ParsedLine, statement: StatementFile, source: StatementSource) -> StatementLine:
    columns = source.columns()
    return StatementLine(
        file=statement,
        source=source,
        line_number=line.number,
        transaction_id=line.transaction_id,
        received_on=line.received_on,
        amount=line.amount,
        currency=line.currency,
        account_number=line.account_number,
        payment_reference=line.payment_reference,
        national_id=line.national_id,
        payer_name=line.payer_name,
        channel=line.channel,
        raw=line.raw,
        status=line.status,
        column=columns.get(line.field, "") if line.field else "",
        reason=line.reason[:500],
        debt_id=line.debt_id,  # kept on a refused posting: the report shows which debt refused it
        payment=line.payment,
    )


def _post(line: ParsedLine, *, statement: StatementFile, source: StatementSource, actor, business_date):
    try:
        result = post_payment(
            debt=line.debt_id,
            amount=line.amount,
            received_on=line.received_on,
            reference=payment_reference_for(source, line.transaction_id),
            channel=line.channel,
            currency=line.currency,
            actor=actor,
            reason=_short(f"statement {source.code} #{statement.pk} line {line.number}"),
            today=business_date,
        )
    except ValidationError as exc:  # Conflict and PaymentConflict too
        fields = getattr(exc, "error_dict", {})
        where = next((_SERVICE_FIELDS[name] for name in fields if name in _SERVICE_FIELDS), "")
        line.status, line.field = StatementLine.Status.REJECTED, where
        line.reason = "Posting refused: " + " ".join(exc.messages)
        return
    if not result.created:
        # Another import (running at the same time, or an API posting with
        # this reference) posted it first: reported, never posted twice.
        line.status, line.field = StatementLine.Status.REJECTED, "transaction_id"
        line.reason = f"Already posted as payment {result.payment.reference}."
        line.already_imported = True
        return
    line.status, line.payment = StatementLine.Status.POSTED, result.payment


def _save_line(row: StatementLine, *, actor, reason: str) -> None:
    record(row, actor=actor, reason=reason)
    row.save()


def _save_suspense(row: StatementLine, line: ParsedLine, *, actor, reason: str) -> StatementLine:
    """A suspense line, unless a concurrent import kept this transaction id
    first (the live-transaction constraint): then it is already imported."""
    try:
        with transaction.atomic():
            _save_line(row, actor=actor, reason=reason)
        return row
    except IntegrityError:
        row.pk = None
        line.status, line.field = StatementLine.Status.REJECTED, "transaction_id"
        line.reason = "Already imported by another statement file."
        line.already_imported = True
        row.status, row.reason, row.debt = line.status, line.reason, None
        row.column = row.source.columns().get("transaction_id", "")
        _save_line(row, actor=actor, reason=reason)
        line.saved = True
        return row


def _totals(statement: StatementFile, lines: Iterable[ParsedLine]) -> None:
    counts = {status: 0 for status in StatementLine.Status.values}
    amounts = {status: ZERO for status in StatementLine.Status.values}
    already = 0
    for line in lines:
        counts[line.status] += 1
        amounts[line.status] += line.amount or ZERO
        already += line.already_imported
    statement.posted_count = counts["posted"]
    statement.suspense_count = counts["suspense"]
    statement.rejected_count = counts["rejected"]
    statement.line_count = sum(counts.values())
    statement.already_posted_count = already
    statement.posted_amount = amounts["posted"]
    statement.suspense_amount = amounts["suspense"]
    statement.rejected_amount = amounts["rejected"]
    statement.total_amount = sum(amounts.values(), ZERO)
    statement.status = StatementFile.Status.OPEN if counts["suspense"] else StatementFile.Status.RECONCILED


def import_statement(
    *,
    path,
    source: StatementSource,
    actor,
    business_date: date,
    original_name: str | None = None,
) -> ImportResult:
    """Import one statement file from ``source``.

    Raises ``FileRejected`` (a ``ValidationError``) when the file as a whole
    cannot be read, and ``ValidationError`` for an inactive source; nothing
    is written then. The same file (by SHA-256) imported again answers the
    first import with ``created=False`` and writes nothing. Otherwise every
    line ends posted, in suspense or rejected, and the file's counts and
    amounts reconcile (imported = posted + suspense + rejected).
    """
    _check_source(source)
    table = inspect_table(path, required_columns=source.required_columns())
    earlier = _earlier_import(source, table.sha256)
    if earlier is not None:
        return ImportResult(file=earlier, created=False)
    lines = _prepare_lines(table, source, business_date)
    name = os.path.basename(original_name or os.fspath(path))
    statement = StatementFile(
        source=source,
        original_name=name[:255],
        sha256=table.sha256,
        encoding=table.encoding_name,
        business_date=business_date,
        imported_by=actor,
    )
    with open(table.path, "rb") as handle:
        statement.file.save(name, File(handle), save=False)
    try:
        with transaction.atomic():
            _write(statement, lines, source=source, actor=actor, business_date=business_date)
    except BaseException:
        statement.file.delete(save=False)
        raise
    return ImportResult(file=statement, created=True, lines=lines)


def _check_source(source: StatementSource) -> None:
    if not source.active:
        raise ValidationError({"source": f"The statement source {source.name} is inactive."})


def _earlier_import(source: StatementSource, sha256: str) -> StatementFile | None:
    """The import of these bytes from this source that counts (a failed one does not)."""
    return (
        StatementFile.objects.filter(source=source, sha256=sha256)
        .exclude(status=StatementFile.Status.FAILED)
        .order_by("id")
        .first()
    )


def _prepare_lines(table: TableFile, source: StatementSource, business_date: date) -> list[ParsedLine]:
    """Step 2: every line validated and matched; nothing written."""
    lines = _read_lines(table, source, business_date)
    _mark_already_imported(lines, source)
    for line in lines:
        if line.status:
            continue
        line.debt_id, how = match_debt(line, source)
        line.status = StatementLine.Status.POSTED if line.debt_id else StatementLine.Status.SUSPENSE
        line.reason = how
    return lines


def submit_statement_file(
    *,
    path,
    source: StatementSource,
    actor,
    business_date: date,
    original_name: str | None = None,
) -> ImportResult:
    """Check the file at ``path`` as a whole, store it ``queued`` and hand it
    to a worker (``process_statement_file``) after commit: the admin's and
    the API's upload, which never import inside the request.

    Raises ``FileRejected`` (size, rows, XLSX expansion, encoding, columns)
    or ``ValidationError`` (inactive source) with nothing written. The same
    bytes already imported (or on their way) answer that file with
    ``created=False``.
    """
    _check_source(source)
    table = inspect_table(path, required_columns=source.required_columns())
    earlier = _earlier_import(source, table.sha256)
    if earlier is not None:
        return ImportResult(file=earlier, created=False)
    name = os.path.basename(original_name or os.fspath(path))
    statement = StatementFile(
        source=source,
        original_name=name[:255],
        sha256=table.sha256,
        encoding=table.encoding_name,
        business_date=business_date,
        imported_by=actor,
        status=StatementFile.Status.QUEUED,
    )
    with open(table.path, "rb") as handle:
        statement.file.save(name, File(handle), save=False)
    try:
        with transaction.atomic():
            record(statement, actor=actor, reason=_short(f"statement file {name} queued"))
            statement.save()
    except IntegrityError:
        # The same bytes, submitted at the same moment by someone else.
        statement.file.delete(save=False)
        earlier = _earlier_import(source, table.sha256)
        if earlier is None:
            raise
        return ImportResult(file=earlier, created=False)
    enqueue_after_commit(PROCESS_FILE_TASK, statement.pk)
    return ImportResult(file=statement, created=True)


def _set_status(statement: StatementFile, *, actor, reason: str, **changes) -> None:
    for name, value in changes.items():
        setattr(statement, name, value)
    record(statement, actor=actor, reason=_short(reason))
    statement.save()


def process_statement_file(*, statement_file_id: int) -> StatementFile:
    """Import a stored, queued statement file (the worker's half of
    ``submit_statement_file``): validate and match every line, then write
    them all in one transaction, as ``import_statement`` does.

    Safe to run twice: a file no longer queued or importing is returned as
    it is. Bad input never raises: a file refused part-way (damaged tail)
    or an unexpected error ends ``failed`` with the reason and no line.
    """
    statement = StatementFile.objects.select_related("source", "imported_by").get(pk=statement_file_id)
    if statement.status not in StatementFile.PENDING:
        return statement
    actor = statement.imported_by or system_user()
    source = statement.source
    _set_status(
        statement,
        actor=actor,
        reason=f"statement file {statement.pk}: importing",
        status=StatementFile.Status.IMPORTING,
        started_at=timezone.now(),
    )
    try:
        table = inspect_table(statement.file.path, required_columns=source.required_columns())
        lines = _prepare_lines(table, source, statement.business_date)
        with transaction.atomic():
            current = StatementFile.objects.select_for_update().get(pk=statement.pk).status
            if current != StatementFile.Status.IMPORTING:
                statement.refresh_from_db()  # failed by the sweeper meanwhile
                return statement
            _write(statement, lines, source=source, actor=actor, business_date=statement.business_date)
    except FileRejected as exc:
        _fail(statement, actor, " ".join(exc.messages))
    except Exception as exc:  # noqa: BLE001 (the file's page must say what went wrong)
        logger.exception("statement file %s failed", statement.pk)
        _fail(statement, actor, import_failure_reason(exc, nothing_done="no line was posted"))
    return statement


def _fail(statement: StatementFile, actor, message: str) -> None:
    statement.refresh_from_db()
    _set_status(
        statement,
        actor=actor,
        reason=f"statement file {statement.pk}: failed",
        status=StatementFile.Status.FAILED,
        error=message[:5000],
    )


def fail_stuck_files(*, now: datetime | None = None) -> int:
    """Mark statement files queued or importing for longer than
    ``settings.IMPORT_STUCK_AFTER_MINUTES`` as failed, with the reason.

    Their worker was lost; the import's one transaction rolled back, so no
    line of them is in the books, and a failed file does not block the same
    bytes. The task's hard time limit is shorter than the timeout (checked
    in settings), so no live import is failed. Returns how many were marked.
    """
    now = now or timezone.now()
    minutes = settings.IMPORT_STUCK_AFTER_MINUTES
    cutoff = now - timedelta(minutes=minutes)
    stuck = StatementFile.objects.filter(
        Q(status=StatementFile.Status.QUEUED, imported_at__lt=cutoff)
        | Q(status=StatementFile.Status.IMPORTING, started_at__lt=cutoff)
    ).values_list("pk", flat=True)
    done = 0
    for pk in list(stuck):
        with transaction.atomic():
            statement = StatementFile.objects.select_for_update().get(pk=pk)
            if statement.status not in StatementFile.PENDING:
                continue
            was = statement.get_status_display().lower()
            _set_status(
                statement,
                actor=system_user(),
                reason=f"statement file {pk} stuck: failed by the sweeper",
                status=StatementFile.Status.FAILED,
                error=(
                    f"The import stopped while {was} and did not finish within {minutes} minutes "
                    "(its worker was lost); no line was posted. The same file may be sent again."
                ),
            )
            done += 1
    return done


def _write(statement: StatementFile, lines: list[ParsedLine], *, source, actor, business_date) -> None:
    reason = _short(f"statement file {statement.original_name} imported")
    try:
        with transaction.atomic():
            _save_line(statement, actor=actor, reason=reason)
    except IntegrityError:
        # The same file imported at the same moment by someone else.
        raise Conflict({"file": "This statement file is being imported already."}) from None
    line_reason = _short(f"statement {source.code} #{statement.pk}")
    to_post = sorted(
        (line for line in lines if line.status == StatementLine.Status.POSTED),
        key=lambda line: (line.debt_id, line.received_on, line.number),
    )
    for line in to_post:
        _post(line, statement=statement, source=source, actor=actor, business_date=business_date)
        if line.status == StatementLine.Status.POSTED:
            _save_line(_line_row(line, statement, source), actor=actor, reason=line_reason)
    suspense = sorted(
        (line for line in lines if line.status == StatementLine.Status.SUSPENSE),
        key=lambda line: line.transaction_id,
    )
    for line in suspense:
        _save_suspense(_line_row(line, statement, source), line, actor=actor, reason=line_reason)
    rejected = [
        _line_row(line, statement, source)
        for line in sorted(lines, key=lambda line: line.number)
        if line.status == StatementLine.Status.REJECTED and not line.saved
    ]
    bulk_create_with_history(
        rejected, StatementLine, batch_size=1000, default_user=actor, default_change_reason=line_reason
    )
    _totals(statement, lines)
    record(statement, actor=actor, reason=reason)
    statement.save()


# --- the suspense queue ------------------------------------------------------------


def _lock_suspense_line(line: StatementLine | int) -> StatementLine:
    pk = line.pk if isinstance(line, StatementLine) else line
    try:
        locked = StatementLine.objects.select_for_update().select_related("source", "file").get(pk=pk)
    except StatementLine.DoesNotExist:
        raise ValidationError({"line": "Unknown statement line."}) from None
    if locked.status != StatementLine.Status.SUSPENSE:
        raise Conflict({"line": f"This line is {locked.get_status_display().lower()}, not in suspense."})
    return locked


def _refresh_file_status(statement: StatementFile, *, actor, reason: str) -> None:
    statement = StatementFile.objects.select_for_update().get(pk=statement.pk)
    still_open = statement.lines.filter(status=StatementLine.Status.SUSPENSE).exists()
    status = StatementFile.Status.OPEN if still_open else StatementFile.Status.RECONCILED
    if status != statement.status:
        statement.status = status
        record(statement, actor=actor, reason=reason)
        statement.save(update_fields=["status"])


def _check_resolver(actor, reason: str) -> str:
    if not may_resolve_suspense(actor):
        raise PermissionDenied("Only a supervisor or an administrator works the suspense queue.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why."})
    return reason


def match_line(
    *,
    line: StatementLine | int,
    debt: Debt | int,
    actor,
    reason: str,
    business_date: date,
    at: datetime | None = None,
) -> StatementLine:
    """Match a suspense line to a debt by hand and post it.

    The posting goes through ``post_payment`` (reference
    ``<source code>:<transaction id>``, so matching twice cannot post twice);
    the line records who matched it, when and why. Raises
    ``PermissionDenied`` for a user who may not work the queue, ``Conflict``
    for a line no longer in suspense and ``post_payment``'s own refusals;
    nothing is written then.
    """
    reason = _check_resolver(actor, reason)
    debt_id = debt.pk if isinstance(debt, Debt) else debt
    with transaction.atomic():
        locked = _lock_suspense_line(line)
        result = post_payment(
            debt=debt_id,
            amount=locked.amount,
            received_on=locked.received_on,
            reference=locked.payment_reference_key,
            channel=locked.channel or locked.source.channel,
            currency=locked.currency,
            actor=actor,
            reason=_short(f"suspense line matched by hand: {reason}"),
            today=business_date,
        )
        if not result.created:
            raise Conflict({"line": f"Payment {result.payment.reference} was already posted."})
        locked.status = StatementLine.Status.MATCHED
        locked.debt_id = debt_id
        locked.payment = result.payment
        locked.matched_by = actor
        locked.matched_at = at or timezone.now()
        locked.match_reason = reason[:255]
        _save_line(locked, actor=actor, reason=_short(f"matched by hand: {reason}"))
        _refresh_file_status(locked.file, actor=actor, reason="suspense line matched")
        return locked


def return_line(
    *, line: StatementLine | int, actor, reason: str, at: datetime | None = None
) -> StatementLine:
    """Take a suspense line out of the queue without posting it (money sent
    back to the payer, not ours…): rejected, with who, when and why."""
    reason = _check_resolver(actor, reason)
    with transaction.atomic():
        locked = _lock_suspense_line(line)
        locked.status = StatementLine.Status.REJECTED
        locked.reason = f"Returned from suspense: {reason}"[:500]
        locked.matched_by = actor
        locked.matched_at = at or timezone.now()
        locked.match_reason = reason[:255]
        _save_line(locked, actor=actor, reason=_short(f"returned from suspense: {reason}"))
        _refresh_file_status(locked.file, actor=actor, reason="suspense line returned")
        return locked

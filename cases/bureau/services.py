"""Every write of bureau furnishing (RULES.md §6): monthly submissions and
their lifecycle, the CN pre-notification, "reported in error" marks, K1/K2
details and co-borrowers.

Submission lifecycle: ``generated`` → ``sent`` → ``accepted`` /
``rejected`` (with the bureau's error lines). One submission per creditor
and month (a database constraint): generating again returns the first, so
the monthly task may run twice or be retried. The file is streamed to disk
first (constant memory for any portfolio), then stored and recorded in one
transaction.
"""

import os
import re
import tempfile
from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction

from backoffice.audit import record
from backoffice.errors import Conflict
from cases.bureau import export
from cases.bureau.metro2 import Header, Totals, write_metro2
from cases.bureau.models import AssociatedConsumer, BureauSubmission, FurnishingState
from cases.bureau.transport import get_transport
from cases.models import Creditor, Debt, Message
from cases.services.holds import clean_reason

Status = BureauSubmission.Status
PRENOTICE_TEMPLATE = "bureau-prenotice"
PRENOTICE_CHANNELS = ("sms", "letter")


def parse_period(text: str) -> date:
    """``YYYY-MM`` → the first day of that month."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", (text or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValidationError({"period": f"Give the period as YYYY-MM, not {text!r}."})
    return date(int(match.group(1)), int(match.group(2)), 1)


def file_name(creditor: Creditor, period: date) -> str:
    code = re.sub(r"[^A-Z0-9]", "", creditor.short_code.upper()) or str(creditor.pk)
    return f"METRO2_{code}_{period:%Y%m}.txt"


def header_for(creditor: Creditor, *, period: date, created: date) -> Header:
    profile = export.profile_for(creditor)
    return Header(
        identification={
            "equifax": getattr(profile, "equifax_program_identifier", ""),
            "experian": getattr(profile, "experian_program_identifier", ""),
            "transunion": getattr(profile, "transunion_program_identifier", ""),
            "innovis": getattr(profile, "innovis_program_identifier", ""),
        },
        activity_date=export.month_end(period),
        date_created=created,
        reporter_name=creditor.name,
        reporter_address=getattr(profile, "reporter_address", "") or creditor.address.replace("\n", " "),
        reporter_telephone=getattr(profile, "reporter_telephone", "") or creditor.phone,
    )


def write_file(
    *, creditor: Creditor, period: date, out, generated_at: datetime, chunk_size: int | None = None
) -> tuple[Totals, Counter, list[int]]:
    """Stream the month's Metro 2 file of ``creditor`` into the text stream
    ``out``. Returns the trailer totals, the accounts left out by reason and
    the ids reported as deletions (DA). Writes nothing to the database."""
    totals, skipped, deletions = Totals(), Counter(), []
    accounts = export.export_accounts(
        creditor=creditor,
        period=period,
        stamp=generated_at,
        skipped=skipped,
        deletions=deletions,
        chunk_size=chunk_size or settings.METRO2_CHUNK_SIZE,
    )
    header = header_for(creditor, period=period, created=generated_at.date())
    for line in write_metro2(header, accounts, totals):
        out.write(line)
        out.write("\n")
    return totals, skipped, deletions


def generate_submission(
    *, creditor: Creditor, period: date, actor, generated_at: datetime, chunk_size: int | None = None
) -> BureauSubmission:
    """The month's submission of ``creditor``: the existing one, or a new
    ``generated`` one with its file, counts and totals. Deletions (DA) in
    the file are recorded on each account so they go out once."""
    if period.day != 1:
        raise ValidationError({"period": "A period is the first day of a month."})
    existing = BureauSubmission.objects.filter(creditor=creditor, period=period).first()
    if existing is not None:
        return existing
    fd, tmp = tempfile.mkstemp(prefix="metro2-", suffix=".txt")
    try:
        with os.fdopen(fd, "w", encoding="ascii", newline="\n") as out:
            totals, skipped, deletions = write_file(
                creditor=creditor, period=period, out=out, generated_at=generated_at, chunk_size=chunk_size
            )
        try:
            with transaction.atomic():
                submission = BureauSubmission(
                    creditor=creditor,
                    period=period,
                    status=Status.GENERATED,
                    file_name=file_name(creditor, period),
                    base_records=totals.base_records,
                    j1_segments=totals.j1,
                    j2_segments=totals.j2,
                    k1_segments=totals.k1,
                    k2_segments=totals.k2,
                    k4_segments=totals.k4,
                    status_counts=dict(sorted(totals.statuses.items())),
                    skipped=dict(sorted(skipped.items())),
                    total_current_balance=Decimal(totals.current_balance),
                    total_amount_past_due=Decimal(totals.amount_past_due),
                    generated_at=generated_at,
                    created_by=actor,
                )
                record(submission, actor=actor, reason="Metro 2 file generated")
                with open(tmp, "rb") as handle:
                    submission.file.save(submission.file_name, File(handle), save=False)
                submission.save()
                _record_deletions(deletions, period=period, actor=actor)
        except IntegrityError:
            winner = BureauSubmission.objects.filter(creditor=creditor, period=period).first()
            if winner is None:
                raise
            return winner
    finally:
        Path(tmp).unlink(missing_ok=True)
    return submission


def _record_deletions(debt_ids: list[int], *, period: date, actor) -> None:
    """DA goes out once: note the month on each deleted account (few rows)."""
    label = f"{period:%Y-%m}"
    for debt_id in debt_ids:
        state, _created = FurnishingState.objects.select_for_update().get_or_create(debt_id=debt_id)
        if state.deletion_period:
            continue
        state.deletion_period = label
        record(state, actor=actor, reason=f"deletion (DA) reported in {label}")
        state.save()


def _local_path(submission: BureauSubmission) -> tuple[Path, Path | None]:
    """A local path of the stored file (a temporary copy for remote storage)."""
    try:
        return Path(submission.file.path), None
    except NotImplementedError:
        fd, tmp = tempfile.mkstemp(prefix="metro2-send-")
        with os.fdopen(fd, "wb") as out, submission.file.open("rb") as source:
            for block in source.chunks():
                out.write(block)
        return Path(tmp), Path(tmp)


def send_submission(*, submission: BureauSubmission, actor, at: datetime, transport=None) -> BureauSubmission:
    """Deliver a generated file through the configured transport and mark it
    sent; a submission already sent (or answered) is returned unchanged.
    ``TransportError`` leaves it ``generated`` for a retry."""
    transport = transport or get_transport()
    with transaction.atomic():
        locked = BureauSubmission.objects.select_for_update().get(pk=submission.pk)
        if locked.status != Status.GENERATED:
            return locked
        path, temporary = _local_path(locked)
        try:
            reference = transport.send(source=path, name=locked.file_name)
        finally:
            if temporary is not None:
                temporary.unlink(missing_ok=True)
        locked.status = Status.SENT
        locked.sent_at = at
        locked.transport_reference = reference[:300]
        record(locked, actor=actor, reason="Metro 2 file sent to the bureau")
        locked.save(update_fields=["status", "sent_at", "transport_reference"])
        return locked


def record_bureau_response(
    *, submission: BureauSubmission, accepted: bool, error_lines: str = "", actor, at: datetime, reason: str
) -> BureauSubmission:
    """The bureau's answer to a sent file: ``accepted`` (its warning lines
    kept if any) or ``rejected`` with the error lines it gave. ``Conflict``
    unless the file was sent and not yet answered."""
    reason = clean_reason(reason)
    error_lines = (error_lines or "").strip()
    if not accepted and not error_lines:
        raise ValidationError({"error_lines": "Paste the bureau's error lines for a rejected file."})
    with transaction.atomic():
        locked = BureauSubmission.objects.select_for_update().get(pk=submission.pk)
        if locked.status != Status.SENT:
            raise Conflict({"status": f"The submission is {locked.get_status_display().lower()}, not sent."})
        locked.status = Status.ACCEPTED if accepted else Status.REJECTED
        locked.error_lines = error_lines
        locked.responded_at = at
        record(locked, actor=actor, reason=reason)
        locked.save(update_fields=["status", "error_lines", "responded_at"])
        return locked


def _lock_state(debt: Debt) -> FurnishingState:
    Debt.objects.select_for_update().filter(pk=debt.pk).first()
    state, _created = FurnishingState.objects.select_for_update().get_or_create(debt_id=debt.pk)
    return state


def mark_reported_in_error(*, debt: Debt, actor, reason: str, on: date) -> FurnishingState:
    """A user says this account should never have been reported: the next
    file deletes it (DA) and no later file reports it."""
    reason = clean_reason(reason)
    with transaction.atomic():
        state = _lock_state(debt)
        if state.reported_in_error:
            return state
        state.reported_in_error = True
        state.error_reason = reason
        state.error_marked_by = actor
        state.error_marked_on = on
        record(state, actor=actor, reason=f"reported in error: {reason}"[:100])
        state.save()
        return state


def set_account_details(
    *,
    debt: Debt,
    actor,
    reason: str,
    original_creditor_name: str | None = None,
    creditor_classification: str | None = None,
    purchased_sold: str | None = None,
    purchased_sold_name: str | None = None,
    consumer_information_indicator: str | None = None,
) -> FurnishingState:
    """K1 (original creditor), K2 (purchased from / sold to) and the consumer
    information indicator of one account; ``None`` leaves a value as it is."""
    reason = clean_reason(reason)
    errors = {}
    if purchased_sold not in (None, "", *FurnishingState.PurchasedSold.values):
        errors["purchased_sold"] = "Use 1 (purchased from) or 2 (sold to)."
    if purchased_sold and not (purchased_sold_name or "").strip():
        errors["purchased_sold_name"] = "Name who it was purchased from or sold to."
    if creditor_classification not in (None, "") and not re.fullmatch(r"\d{2}", creditor_classification):
        errors["creditor_classification"] = "Two digits (Metro 2 creditor classification)."
    if consumer_information_indicator not in (None, "") and len(consumer_information_indicator) > 2:
        errors["consumer_information_indicator"] = "At most two characters."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        state = _lock_state(debt)
        for name, value in (
            ("original_creditor_name", original_creditor_name),
            ("creditor_classification", creditor_classification),
            ("purchased_sold", purchased_sold),
            ("purchased_sold_name", purchased_sold_name),
            ("consumer_information_indicator", consumer_information_indicator),
        ):
            if value is not None:
                setattr(state, name, value.strip().upper() if name != "purchased_sold" else value)
        state.full_clean()
        record(state, actor=actor, reason=reason)
        state.save()
        return state


def add_associated_consumer(
    *, debt: Debt, customer, ecoa_code: str, own_address: bool, actor, reason: str
) -> AssociatedConsumer:
    """Put a co-borrower (or another consumer) on a debt for J1/J2 segments."""
    reason = clean_reason(reason)
    if ecoa_code not in AssociatedConsumer.Ecoa.values:
        raise ValidationError({"ecoa_code": f"Unknown ECOA code {ecoa_code!r}."})
    if customer.pk == debt.customer_id:
        raise ValidationError({"customer": "The primary consumer is already on the base segment."})
    with transaction.atomic():
        Debt.objects.select_for_update().filter(pk=debt.pk).first()
        row = AssociatedConsumer.objects.filter(debt=debt, customer=customer).first()
        if row is None:
            row = AssociatedConsumer(debt=debt, customer=customer)
        row.ecoa_code = ecoa_code
        row.own_address = own_address
        record(row, actor=actor, reason=reason)
        row.save()
        return row


def send_prenotification(*, debt: Debt, at: datetime, actor) -> Message:
    """CN (RULES §6): tell the customer before negative data is first reported.

    Goes through the messaging service (so the contact rules and holds
    apply) as an SMS, or a letter when there is no verified phone. The
    message is kept on the account; ``export`` reports negative data only
    once that message is sent or delivered. Repeating the call returns the
    same message (a blocked one is evaluated again)."""
    from cases.services.messages import queue_message

    if debt.case_id is None:
        raise ValidationError({"debt": "The debt has no case to send the notice through."})
    last_error = None
    for channel in PRENOTICE_CHANNELS:
        try:
            message = queue_message(
                case=debt.case,
                debt=debt,
                channel=channel,
                template_code=PRENOTICE_TEMPLATE,
                actor=actor,
                at=at,
                idempotency_key=f"bureau-prenotice:{debt.pk}:{channel}",
                retry=True,
            )
        except ValidationError as exc:
            last_error = exc
            continue
        break
    else:
        raise last_error
    with transaction.atomic():
        state = _lock_state(debt)
        if state.prenotice_id != message.pk:
            state.prenotice = message
            state.prenotified_on = at.date()
            record(state, actor=actor, reason="bureau pre-notification queued")
            state.save()
    return message


def run_month_for_creditor(
    *, creditor: Creditor, period: date, actor, at: datetime, send: bool = True
) -> BureauSubmission:
    """What the monthly task does for one creditor: pre-notify CN accounts
    about to be reported negative, generate the month's file (once) and send it."""
    from cases.bureau.selectors import debts_due_prenotice

    for debt in debts_due_prenotice(creditor=creditor):
        try:
            send_prenotification(debt=debt, at=at, actor=actor)
        except ValidationError:
            continue  # no usable contact point: not reported negative until one is found
    submission = generate_submission(creditor=creditor, period=period, actor=actor, generated_at=at)
    if send:
        submission = send_submission(submission=submission, actor=actor, at=at)
    return submission

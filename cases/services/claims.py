"""Payment claims: maker–checker for money entered by people (issue #14).

A collector or team lead who hears "I paid" records a claim
(``submit_claim``); it reaches the ledger only when a second person holding
``cases.approve_payment`` approves it (``approve_claim``), which posts it
through ``cases.services.payments.post_payment`` (same allocation, same
idempotency by reference) in the transaction that marks the claim approved,
with the claim row locked. ``reject_claim`` closes it with a reason.

What callers can rely on:

- nobody decides their own claim (``NotAllowed``, HTTP 409), and only a
  holder of ``approve_payment`` who sees the claim's case decides it;
- only a pending claim is decided (``Conflict``), except that approving an
  approved claim again returns it and posts nothing;
- amounts are plain decimals with at most two places (``"1e3"``, ``"1,000"``,
  ``" 1000"`` are refused, never read as something else);
- evidence is a PDF, PNG or JPEG (by its first bytes, not its name) of at
  most ``settings.PAYMENT_CLAIM_EVIDENCE_MAX_BYTES``, stored under a
  generated name;
- a refusal writes nothing.
"""

import uuid
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import IntegrityError, transaction
from django.utils import timezone

from backoffice.access import may_approve_payments, payment_claims_for, writable_cases_for
from backoffice.audit import record
from backoffice.errors import Conflict, NotAllowed
from backoffice.money import PlainAmountError, parse_plain_amount
from cases.models import Debt, Payment, PaymentClaim
from cases.services.holds import REASON_MAX, clean_reason
from cases.services.payments import post_payment

# First bytes of the accepted evidence formats → the extension it is stored with.
_EVIDENCE_SIGNATURES = (
    (b"%PDF-", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpg"),
)


def clean_claim_amount(value) -> Decimal:
    """``value`` as a two-place ``Decimal``, or ``ValidationError`` on ``amount``.

    Accepts what ``backoffice.money.parse_plain_amount`` accepts (digits with
    at most two decimals), an ``int``, or a ``Decimal`` with at most two
    places written without an exponent (what the API's ``money()`` field and
    the forms hand over). Floats, exponents, separators and surrounding
    spaces are refused: a claim is money a person typed, and "1e3" must not
    become 1000.00.
    """
    bad = 'Write the amount as a plain decimal with at most two places, e.g. "1413.50".'
    if isinstance(value, bool) or isinstance(value, float):
        raise ValidationError({"amount": bad})
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, Decimal):
        exponent = value.as_tuple().exponent if value.is_finite() else None
        if exponent is None or exponent > 0 or exponent < -2:
            raise ValidationError({"amount": bad})
        text = format(value, "f")
    elif isinstance(value, str):
        text = value
    else:
        raise ValidationError({"amount": bad})
    try:
        amount = parse_plain_amount(text)
    except PlainAmountError as exc:
        raise ValidationError({"amount": str(exc)}) from None
    if amount <= 0:
        raise ValidationError({"amount": "Amount must be greater than zero."})
    return amount


def clean_evidence(evidence) -> File | None:
    """Check an uploaded evidence file; ``None`` when there is none.

    The type is read from the file's first bytes (a renamed executable is
    not a PDF); the stored name is generated, never the uploader's.
    """
    if evidence is None or evidence == "":
        return None
    limit = settings.PAYMENT_CLAIM_EVIDENCE_MAX_BYTES
    size = getattr(evidence, "size", None)
    if size is None or size > limit:
        raise ValidationError(
            {"evidence": f"The evidence file is larger than {limit // 1024} KB (or its size is unknown)."}
        )
    if size == 0:
        raise ValidationError({"evidence": "The evidence file is empty."})
    evidence.seek(0)
    head = evidence.read(16)
    evidence.seek(0)
    extension = next((ext for magic, ext in _EVIDENCE_SIGNATURES if head.startswith(magic)), None)
    if extension is None:
        raise ValidationError({"evidence": "Evidence must be a PDF, PNG or JPEG file."})
    return File(evidence, name=f"claim-{uuid.uuid4().hex}.{extension}")


def _clean_reference(reference: str) -> str:
    reference = (reference or "").strip()
    if not reference:
        raise ValidationError({"reference": "A payment needs its external reference."})
    if len(reference) > 100:
        raise ValidationError({"reference": "Keep the reference to 100 characters."})
    return reference


def _reference_in_use(reference: str) -> None:
    if Payment.objects.filter(reference=reference).exists():
        raise Conflict({"reference": f"A payment with reference {reference} is already on the ledger."})
    open_claims = PaymentClaim.objects.filter(reference=reference).exclude(
        status=PaymentClaim.Status.REJECTED
    )
    if open_claims.exists():
        raise Conflict({"reference": f"Reference {reference} is already claimed."})


def submit_claim(
    *,
    debt: Debt | int,
    amount,
    received_on: date,
    channel: str,
    reference: str,
    evidence=None,
    actor,
    reason: str,
    today: date | None = None,
) -> PaymentClaim:
    """Record a pending claim that ``actor`` received ``amount`` on ``debt``.

    The actor needs ``cases.add_paymentclaim`` and a case they may work
    (``writable_cases_for``), else ``NotAllowed``. ``ValidationError`` for a
    bad amount, date, channel, reference or evidence; ``Conflict`` for a debt
    that no longer takes payments or a reference already posted or claimed.
    Nothing reaches the ledger.
    """
    reason = clean_reason(reason)
    amount = clean_claim_amount(amount)
    today = today or timezone.localdate()
    if not isinstance(received_on, date):
        raise ValidationError({"received_on": "Give the date the money was received."})
    if received_on > today:
        raise ValidationError({"received_on": "A payment cannot be received in the future."})
    if channel not in Payment.Channel.values:
        raise ValidationError({"channel": f"Unknown channel {channel!r}."})
    reference = _clean_reference(reference)
    evidence_file = clean_evidence(evidence)
    if not actor.has_perm("cases.add_paymentclaim"):
        raise NotAllowed({"debt": ["You may not record payment claims."]})
    debt_id = debt.pk if isinstance(debt, Debt) else debt
    claim = None
    try:
        with transaction.atomic():
            try:
                debt = Debt.objects.select_for_update().get(pk=debt_id)
            except Debt.DoesNotExist:
                raise ValidationError({"debt": "Unknown debt."}) from None
            if not writable_cases_for(actor).filter(pk=debt.case_id).exists():
                raise NotAllowed({"debt": ["You may not work this debt's case."]})
            if debt.status not in Debt.ACTIVE_STATUSES:
                raise Conflict({"debt": f"The debt is {debt.get_status_display().lower()}."})
            if received_on < debt.opened_on:
                raise ValidationError({"received_on": "A payment cannot predate the account."})
            _reference_in_use(reference)
            claim = PaymentClaim(
                debt=debt,
                amount=amount,
                currency=debt.currency,
                received_on=received_on,
                channel=channel,
                reference=reference,
                claimed_by=actor,
            )
            claim.full_clean(exclude=["evidence"], validate_unique=False, validate_constraints=False)
            if evidence_file is not None:
                claim.evidence.save(evidence_file.name, evidence_file, save=False)
            record(claim, actor=actor, reason=reason)
            claim.save()
    except IntegrityError:
        # A concurrent claim took the reference between the check and the
        # insert; the evidence stored for the refused claim goes too.
        if claim is not None and claim.evidence:
            claim.evidence.delete(save=False)
        raise Conflict({"reference": f"Reference {reference} is already claimed."}) from None
    return claim


def _lock_claim_to_decide(claim: PaymentClaim | int, *, actor) -> PaymentClaim:
    """Re-read and lock the claim; ``NotAllowed`` unless ``actor`` may decide it."""
    claim_id = claim.pk if isinstance(claim, PaymentClaim) else claim
    if not may_approve_payments(actor):
        raise NotAllowed({"claim": ["You may not approve or reject payment claims."]})
    try:
        locked = payment_claims_for(actor).select_for_update(of=("self",)).get(pk=claim_id)
    except PaymentClaim.DoesNotExist:
        raise ValidationError({"claim": "Unknown payment claim."}) from None
    if locked.claimed_by_id == actor.pk:
        raise NotAllowed({"claim": ["Nobody approves or rejects their own payment claim."]})
    return locked


def _history_reason(prefix: str, reason: str) -> str:
    text = f"{prefix}: {reason}"
    return text if len(text) <= REASON_MAX else text[: REASON_MAX - 1] + "…"


def approve_claim(
    *, claim: PaymentClaim | int, actor, reason: str, today: date | None = None
) -> PaymentClaim:
    """Post a pending claim through ``post_payment`` and mark it approved.

    One transaction with the claim row locked: two approvers racing post
    once. Approving an approved claim returns it unchanged. ``Conflict`` for
    a rejected claim, and whatever ``post_payment`` refuses (a closed debt,
    an overpayment, a reference used for a different payment) leaves the
    claim pending.
    """
    reason = clean_reason(reason)
    with transaction.atomic():
        locked = _lock_claim_to_decide(claim, actor=actor)
        if locked.status == PaymentClaim.Status.APPROVED:
            return locked
        if locked.status != PaymentClaim.Status.PENDING:
            raise Conflict({"claim": f"This claim is already {locked.get_status_display().lower()}."})
        history_reason = _history_reason(f"payment claim {locked.pk} approved", reason)
        result = post_payment(
            debt=locked.debt_id,
            amount=locked.amount,
            received_on=locked.received_on,
            reference=locked.reference,
            channel=locked.channel,
            currency=locked.currency,
            actor=actor,
            reason=history_reason,
            today=today,
        )
        locked.status = PaymentClaim.Status.APPROVED
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        locked.payment = result.payment
        record(locked, actor=actor, reason=history_reason)
        locked.save(update_fields=["status", "decided_by", "decided_at", "payment"])
        return locked


def reject_claim(*, claim: PaymentClaim | int, actor, reason: str) -> PaymentClaim:
    """Close a pending claim without posting; the reason is required and kept."""
    reason = clean_reason(reason)
    with transaction.atomic():
        locked = _lock_claim_to_decide(claim, actor=actor)
        if locked.status != PaymentClaim.Status.PENDING:
            raise Conflict({"claim": f"This claim is already {locked.get_status_display().lower()}."})
        locked.status = PaymentClaim.Status.REJECTED
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        locked.reject_reason = reason
        record(locked, actor=actor, reason=_history_reason(f"payment claim {locked.pk} rejected", reason))
        locked.save(update_fields=["status", "decided_by", "decided_at", "reject_reason"])
        return locked

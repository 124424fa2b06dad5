"""Small balances in bulk (issue #9; docs/small-balances.md).

Two things, both driven by ``CollectionPolicy.digital_only_below``:

- **The digital-only track.** The threshold is per debt (a debt's total
  balance against its own policy's threshold); the track is per case,
  because a collector works cases: a case is digital-only when it has an
  open debt that owes something and *every* such debt owes less than its
  policy's threshold. The contact rules then refuse calls and visits with
  ``LL-DIGITAL-ONLY`` (``cases.compliance.rules``); SMS, email and letters
  (the dunning ladder) go on. A customer with one large debt next to a small
  one stays on the ordinary track: the call is about the large one too.
  ``digital_only_case()`` is the same test in SQL for the queue.

- **Bulk settlement offers.** A supervisor describes a selection
  (``BulkSettlementOffer``: policy, optional product and bucket, balance
  band, one discount, an expiry), previews it (``preview_bulk_offer``) and
  approves it once (``approve_bulk_offer``). Approval creates each debt's
  offer through ``cases.services.settlements.propose_settlement`` with the
  approver as the requester: supervisors and administrators have no
  approval limit there, so the settlement is approved at once, and its
  history names the bulk offer; no bypass of the limits is needed or
  possible (``approve_bulk_offer`` itself admits only those roles). Paying
  a settlement then works like any other: when the payments reach the
  amount, ``apply_payment_to_settlements`` waives the rest through the
  ledger and the debt closes as ``settled``. Each offer is also sent through
  ``cases.services.messages.queue_message`` (the contact rules apply; a
  blocked or unsendable message is noted on the item, the settlement
  stands).

Idempotency: an offer is approved only from ``draft`` (under a row lock); a
second approval returns the first result and writes nothing. One
``BulkSettlementOfferItem`` per (offer, debt) records what happened to each
debt, offered or skipped with the reason (an open settlement already, a
hold, a debt closed in the meantime).
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import DecimalField, Exists, F, OuterRef, Q, QuerySet, Value
from django.utils import timezone

from backoffice.access import may_approve_bulk_offers
from backoffice.audit import record
from backoffice.money import round_half_up
from cases.models import (
    BALANCE_FIELD,
    BulkSettlementOffer,
    BulkSettlementOfferItem,
    Debt,
    Message,
    MessageTemplate,
    Settlement,
)
from cases.services.holds import clean_reason
from cases.services.messages import queue_message
from cases.services.settlements import OPEN_STATUSES, propose_settlement

HUNDRED = Decimal("100")
ZERO = Decimal("0.00")
NOTE_MAX = 255
Status = BulkSettlementOffer.Status
Outcome = BulkSettlementOfferItem.Outcome


# --- the digital-only track ------------------------------------------------------------------


def debt_total_balance():
    """A debt's total balance as a SQL expression (same sum as ``Debt.total_balance``)."""
    return sum(
        (F(name) for name in BALANCE_FIELD.values()),
        Value(ZERO, output_field=DecimalField(max_digits=18, decimal_places=2)),
    )


def _owing_open_debts(case_ref) -> QuerySet:
    return (
        Debt.objects.filter(case_id=case_ref, status__in=Debt.ACTIVE_STATUSES)
        .alias(total=debt_total_balance())
        .filter(total__gt=0)
    )


def digital_only_case(case_ref=None):
    """A boolean expression for a ``CollectionCase`` query: the case is on the
    digital-only track (see the module docstring). ``case_ref`` defaults to
    ``OuterRef("pk")``."""
    case_ref = case_ref if case_ref is not None else OuterRef("pk")
    small = Q(product__policy__digital_only_below__isnull=False) & Q(
        total__lt=F("product__policy__digital_only_below")
    )
    any_small = Exists(_owing_open_debts(case_ref).filter(small))
    any_large = Exists(_owing_open_debts(case_ref).exclude(small))
    return any_small & ~any_large


# --- bulk settlement offers: the selection ---------------------------------------------------


def band_below(offer: BulkSettlementOffer) -> Decimal | None:
    """The top of the balance band (exclusive): the offer's own, or the
    policy's digital-only threshold."""
    return offer.balance_max if offer.balance_max is not None else offer.policy.digital_only_below


def selected_debts(offer: BulkSettlementOffer) -> QuerySet:
    """The debts the offer's rule selects now, oldest id first, each
    annotated with ``total`` (its balance): open or charged off, with a case,
    of the offer's policy (and product, and bucket when given), with
    ``balance_min`` ≤ balance < the band's top and a balance above zero."""
    below = band_below(offer)
    if below is None:
        return Debt.objects.none()
    debts = Debt.objects.filter(
        product__policy_id=offer.policy_id, status__in=Debt.ACTIVE_STATUSES, case__isnull=False
    )
    if offer.product_id:
        debts = debts.filter(product_id=offer.product_id)
    if offer.bucket:
        debts = debts.filter(bucket=offer.bucket)
    return (
        debts.annotate(total=debt_total_balance())
        .filter(total__gt=0, total__gte=offer.balance_min, total__lt=below)
        .order_by("id")
    )


def offer_amount(balance: Decimal, discount_percent: Decimal) -> Decimal:
    """What settles a debt of ``balance``: the same rounding as
    ``propose_settlement`` (half-up to the cent)."""
    return round_half_up(balance * (HUNDRED - discount_percent) / HUNDRED)


@dataclass
class SkippedDebt:
    debt_id: int
    account_number: str
    reason: str


@dataclass
class BulkPreview:
    """What approving the offer now would do. ``count``/``total_*``: the
    debts that would get a settlement; ``skipped``: the selected debts that
    would not, and why."""

    count: int = 0
    total_balance: Decimal = ZERO
    total_amount: Decimal = ZERO
    total_waiver: Decimal = ZERO
    skipped: list[SkippedDebt] = field(default_factory=list)
    band_below: Decimal | None = None


def preview_bulk_offer(*, offer: BulkSettlementOffer) -> BulkPreview:
    """Count and total the offer's selection, to the cent. Read only; two
    queries whatever the size of the selection."""
    preview = BulkPreview(band_below=band_below(offer))
    open_offer = Settlement.objects.filter(debt_id=OuterRef("pk"), status__in=OPEN_STATUSES)
    rows = (
        selected_debts(offer)
        .annotate(has_open_settlement=Exists(open_offer))
        .values_list("id", "account_number", "total", "has_open_settlement", "case__holds")
    )
    for debt_id, account_number, total, has_open_settlement, holds in rows.iterator(chunk_size=2000):
        if has_open_settlement:
            preview.skipped.append(SkippedDebt(debt_id, account_number, "already has an open settlement"))
            continue
        if holds:
            preview.skipped.append(SkippedDebt(debt_id, account_number, f"case on hold ({', '.join(holds)})"))
            continue
        amount = offer_amount(total, offer.discount_percent)
        preview.count += 1
        preview.total_balance += total
        preview.total_amount += amount
        preview.total_waiver += total - amount
    return preview


# --- bulk settlement offers: writes ----------------------------------------------------------


def _validate_draft(offer: BulkSettlementOffer, *, today: date | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    discount = offer.discount_percent
    if discount is None or not (0 < discount < HUNDRED):
        errors["discount_percent"] = ["The discount must be more than 0 and less than 100 %."]
    if offer.balance_min is None or offer.balance_min < 0:
        errors["balance_min"] = ["The band cannot start below zero."]
    if (
        offer.balance_max is not None
        and offer.balance_min is not None
        and offer.balance_max <= offer.balance_min
    ):
        errors["balance_max"] = ["The top of the band must be above its start."]
    if offer.policy_id and offer.balance_max is None and offer.policy.digital_only_below is None:
        errors["balance_max"] = ["Give the top of the band: the policy has no digital-only threshold."]
    if offer.product_id and offer.policy_id and offer.product.policy_id != offer.policy_id:
        errors["product"] = ["This product is under another policy."]
    if offer.bucket and offer.policy_id and offer.bucket not in offer.policy.bucket_labels():
        labels = ", ".join(offer.policy.bucket_labels())
        errors["bucket"] = [f"Unknown bucket {offer.bucket!r}; one of {labels}."]
    if today is not None and offer.expires_on is not None and offer.expires_on < today:
        errors["expires_on"] = ["The offer must be valid until today or later."]
    return errors


def save_bulk_offer_draft(
    *, offer: BulkSettlementOffer, actor, today: date, reason: str = "bulk offer drafted"
) -> BulkSettlementOffer:
    """Create or change a draft offer (nothing is offered until approval).

    ``ValidationError`` (nothing saved) for a bad band, discount, product,
    bucket or expiry, or when the offer is no longer a draft (its selection
    is what the approver signed)."""
    reason = clean_reason(reason)
    errors = _validate_draft(offer, today=today)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if offer.pk:
            current = BulkSettlementOffer.objects.select_for_update().get(pk=offer.pk)
            if current.status != Status.DRAFT:
                raise ValidationError({"status": f"The offer is {current.get_status_display().lower()}."})
        else:
            offer.status = Status.DRAFT
            offer.created_by = actor
        record(offer, actor=actor, reason=reason)
        offer.save()
        return offer


@dataclass
class BulkApproval:
    offer: BulkSettlementOffer
    approved_now: bool
    offered: int = 0
    skipped: int = 0
    messages_not_sent: int = 0


def _messages(exc: ValidationError) -> str:
    return " ".join(exc.messages)[:NOTE_MAX]


def _send_offer(offer, item, debt, *, actor, at: datetime) -> None:
    try:
        message = queue_message(
            case=debt.case,
            debt=debt,
            channel=offer.channel,
            template_code=offer.template_code,
            actor=actor,
            at=at,
            idempotency_key=f"bulk-offer:{offer.pk}:debt:{debt.pk}",
        )
    except ValidationError as exc:
        item.message_note = f"not sent: {_messages(exc)}"[:NOTE_MAX]
        return
    item.message = message
    if message.status == Message.Status.BLOCKED:
        item.message_note = f"blocked ({', '.join(message.rules)}): {message.blocked_reason}"[:NOTE_MAX]
    elif message.status == Message.Status.FAILED:
        item.message_note = f"failed: {message.last_error}"[:NOTE_MAX]
    else:
        item.message_note = message.get_status_display()


def approve_bulk_offer(
    *,
    offer: BulkSettlementOffer,
    actor,
    today: date,
    at: datetime,
    reason: str = "bulk settlement offer approved",
) -> BulkApproval:
    """Approve a draft offer once for its whole selection.

    For each selected debt (as it stands now): a settlement of its balance
    less the discount, valid until ``expires_on``, approved by ``actor``,
    and the offer message (``channel``, ``template_code``) queued for ``at``;
    or a skipped item saying why (``propose_settlement`` refused it: an open
    settlement already, a hold, …). The offer records who approved it, when,
    and the totals. An offer that is no longer a draft is returned as it is
    (``approved_now`` false): approving twice does nothing twice.

    ``PermissionDenied`` unless ``actor`` is a supervisor or administrator;
    ``ValidationError`` (nothing written) for an expired draft or a missing
    message template.
    """
    reason = clean_reason(reason)
    if not may_approve_bulk_offers(actor):
        raise PermissionDenied("Only a supervisor or an administrator approves a bulk settlement offer.")
    if timezone.is_naive(at):
        raise ValidationError({"at": "Give a date and time with its time zone."})
    with transaction.atomic():
        locked = BulkSettlementOffer.objects.select_for_update().select_related("policy").get(pk=offer.pk)
        if locked.status != Status.DRAFT:
            return BulkApproval(
                offer=locked, approved_now=False, offered=locked.offered_count, skipped=locked.skipped_count
            )
        errors = _validate_draft(locked, today=today)
        if not MessageTemplate.objects.filter(
            code=locked.template_code, channel=locked.channel, active=True
        ).exists():
            errors["template_code"] = [
                f"No active message template {locked.template_code!r} for {locked.get_channel_display()}."
            ]
        if errors:
            raise ValidationError(errors)
        result = BulkApproval(offer=locked, approved_now=True)
        total_balance = total_waiver = ZERO
        settlement_reason = f"bulk offer {locked.pk} approved"
        done = set(BulkSettlementOfferItem.objects.filter(offer=locked).values_list("debt_id", flat=True))
        for debt in selected_debts(locked).select_related("case"):
            if debt.pk in done:
                continue
            item = BulkSettlementOfferItem(offer=locked, debt=debt, balance_at_offer=debt.total)
            try:
                settlement = propose_settlement(
                    case=debt.case,
                    debt=debt,
                    discount_percent=locked.discount_percent,
                    valid_until=locked.expires_on,
                    today=today,
                    actor=actor,
                    reason=settlement_reason,
                )
            except ValidationError as exc:  # Conflict too: it is a ValidationError
                item.outcome = Outcome.SKIPPED
                item.skip_reason = _messages(exc)
                result.skipped += 1
            else:
                if settlement.status != Settlement.Status.APPROVED:
                    # Cannot happen for an approver without limit; never leave
                    # a half-approved offer behind.
                    raise ValidationError(
                        {"approved_by": "The approver's limit does not cover the discount."}
                    )
                item.settlement = settlement
                item.outcome = Outcome.OFFERED
                item.balance_at_offer = settlement.balance_at_offer
                item.amount = settlement.amount
                item.waiver = settlement.balance_at_offer - settlement.amount
                total_balance += item.balance_at_offer
                total_waiver += item.waiver
                result.offered += 1
                _send_offer(locked, item, debt, actor=actor, at=at)
                if item.message is None or item.message.status in (
                    Message.Status.BLOCKED,
                    Message.Status.FAILED,
                ):
                    result.messages_not_sent += 1
            record(item, actor=actor, reason=settlement_reason)
            item.save()
        locked.status = Status.APPROVED
        locked.approved_by = actor
        locked.approved_at = at
        locked.approval_reason = reason
        locked.offered_count = result.offered
        locked.skipped_count = result.skipped
        locked.total_balance = total_balance
        locked.total_waiver = total_waiver
        record(locked, actor=actor, reason=reason)
        locked.save()
        return result


def close_bulk_offer(
    *, offer: BulkSettlementOffer, actor, today: date, reason: str = "bulk offer closed"
) -> BulkSettlementOffer:
    """Close an offer by hand: a draft is discarded; an approved offer stops,
    and its settlements that nothing has been paid on yet are cancelled (one
    with a payment counted stays until its own ``valid_until``). Closing a
    closed offer does nothing."""
    reason = clean_reason(reason)
    if not may_approve_bulk_offers(actor):
        raise PermissionDenied("Only a supervisor or an administrator closes a bulk settlement offer.")
    with transaction.atomic():
        locked = BulkSettlementOffer.objects.select_for_update().get(pk=offer.pk)
        if locked.status == Status.CLOSED:
            return locked
        if locked.status == Status.APPROVED:
            settlement_ids = locked.items.filter(settlement__isnull=False).values("settlement_id")
            for settlement in Settlement.objects.select_for_update().filter(
                pk__in=settlement_ids, status=Settlement.Status.APPROVED, paid_amount=0
            ):
                settlement.status = Settlement.Status.CANCELLED
                record(settlement, actor=actor, reason=f"bulk offer {locked.pk} closed")
                settlement.save(update_fields=["status"])
        locked.status = Status.CLOSED
        locked.closed_on = today
        record(locked, actor=actor, reason=reason)
        locked.save(update_fields=["status", "closed_on"])
        return locked


def close_expired_bulk_offers(*, business_date: date, actor) -> int:
    """Close approved offers whose ``expires_on`` is before ``business_date``
    (their settlements expire through ``expire_settlements`` the same
    night). For close of business; idempotent. Returns how many closed."""
    reason = f"bulk offer expired on {business_date.isoformat()}"
    count = 0
    with transaction.atomic():
        for locked in BulkSettlementOffer.objects.select_for_update().filter(
            status=Status.APPROVED, expires_on__lt=business_date
        ):
            locked.status = Status.CLOSED
            locked.closed_on = business_date
            record(locked, actor=actor, reason=reason)
            locked.save(update_fields=["status", "closed_on"])
            count += 1
    return count


# --- the offer message ---------------------------------------------------------------------

OFFER_TEMPLATE_CODE = "settlement_offer"
OFFER_TEMPLATES = {
    ("sms", "en"): (
        "",
        "{{ creditor }}: Dear {{ customer_name }}, settle account {{ account_number }} "
        "(balance {{ currency }} {{ balance }}) by paying {{ currency }} {{ settlement_amount }} "
        "by {{ settlement_valid_until }}; the rest is waived. {{ how_to_pay }} {{ opt_out }}",
    ),
    ("sms", "zh-hans"): (
        "",
        "【{{ creditor }}】尊敬的{{ customer_name }}，您的账户{{ account_number }}欠款{{ currency }} "
        "{{ balance }}，于{{ settlement_valid_until }}前还款{{ currency }} {{ settlement_amount }}即可结清，"
        "其余部分予以减免。{{ how_to_pay }}{{ opt_out }}",
    ),
}


def install_offer_templates(*, actor) -> int:
    """Create the ``settlement_offer`` SMS templates (English and Simplified
    Chinese) that do not exist yet; edited ones are left alone. For the demo
    and for a fresh installation. Returns how many were created."""
    created = 0
    with transaction.atomic():
        for (channel, language), (subject, body) in OFFER_TEMPLATES.items():
            if MessageTemplate.objects.filter(
                code=OFFER_TEMPLATE_CODE, channel=channel, language=language
            ).exists():
                continue
            template = MessageTemplate(
                code=OFFER_TEMPLATE_CODE, channel=channel, language=language, subject=subject, body=body
            )
            record(template, actor=actor, reason="default settlement offer templates")
            template.save()
            created += 1
    return created

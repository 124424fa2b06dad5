"""Issuing a demand letter: render it and keep it with the case.

``issue_demand_letter`` stores the PDF as the ``document`` of a ``Message``
of channel ``letter`` (status ``sent``), once per debt and business date:
the idempotency key is ``letter:<debt id>:<date>``, so a second call the same
day returns the first letter and writes no second row or file. The history
row of the message carries the actor and the reason (STYLE.md).

A letter is collection contact (RULES.md §3): a case on hold gets none
(``Conflict``), and it goes only to a postal address not marked
do-not-contact (RULES.md §4 ``contact_point``).
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.text import get_valid_filename

from backoffice.audit import record
from cases.letters.context import DEFAULT_DEADLINE_DAYS, LANGUAGES, postal_address
from cases.letters.render import render_demand_letter
from cases.models import Debt, Message
from cases.models.dunning import Channel
from cases.services.holds import clean_reason, ensure_not_on_hold, lock_case

SUBJECT = {"zh-hans": "催缴通知书", "en": "Demand for Payment"}


def letter_key(debt: Debt, today: date) -> str:
    return f"letter:{debt.pk}:{today.isoformat()}"


def issue_demand_letter(
    *,
    debt: Debt,
    today: date,
    actor,
    reason: str = "demand letter issued",
    language: str | None = None,
    deadline_days: int = DEFAULT_DEADLINE_DAYS,
) -> Message:
    """Render the demand letter for ``debt`` on business date ``today`` and
    store it with the debt's case; return the letter's ``Message``.

    ``language`` defaults to the customer's preferred language. Repeating the
    call for the same debt and date returns the first message unchanged.
    Raises ``ValidationError`` (nothing stored) for a debt without a case, an
    unknown language or no postal address, and ``Conflict`` for a case on hold.
    """
    reason = clean_reason(reason)
    key = letter_key(debt, today)
    existing = Message.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    debt = Debt.objects.select_related("customer").get(pk=debt.pk)
    if debt.case_id is None:
        raise ValidationError({"debt": "The debt has no case to keep the letter with."})
    language = language or debt.customer.preferred_language
    if language not in LANGUAGES:
        raise ValidationError({"language": f"No demand letter in {language!r}."})
    address = postal_address(debt)
    if address is None:
        raise ValidationError({"contact_point": "The customer has no postal address we may write to."})
    # Rendering takes a moment: done before the lock, re-checked under it.
    pdf = render_demand_letter(debt=debt, language=language, today=today, deadline_days=deadline_days)
    with transaction.atomic():
        case = lock_case(debt.case_id)
        existing = Message.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return existing
        ensure_not_on_hold(case, actor=actor, action="send a demand letter")
        message = Message(
            case=case,
            debt=debt,
            contact_point=address,
            channel=Channel.LETTER,
            language=language,
            recipient=f"{debt.customer.name}, {address.value}"[:300],
            subject=SUBJECT[language],
            body=f"{SUBJECT[language]} · {debt.account_number} · {today.isoformat()}",
            status=Message.Status.SENT,
            idempotency_key=key,
            sent_at=timezone.now(),
            created_by=actor,
        )
        record(message, actor=actor, reason=reason)
        filename = get_valid_filename(f"demand-letter-{debt.account_number}-{today}-{language}.pdf")
        # FieldFile.save writes the file and then saves the row (one history
        # row); the file is written last so only a failed commit can orphan it.
        message.document.save(filename, ContentFile(pdf), save=True)
        return message

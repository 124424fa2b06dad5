"""Rendering message templates against a debt.

Templates use Django's template language on plain text (no HTML escaping)
with the variables in ``VARIABLES``. Rendering is strict: a syntax error or
a variable that is not in the context raises ``TemplateRenderError`` naming
the template, the line and the problem, so a typo is never sent to a
customer as an empty gap.
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.template import Context, Engine, TemplateSyntaxError
from django.utils import translation

from backoffice.money import ZERO

# Shown in admin next to the template body.
VARIABLES = {
    "customer_name": "The customer's legal name",
    "account_number": "The debt's account number",
    "creditor": "The creditor's name",
    "creditor_phone": "The creditor's phone number",
    "currency": "The debt's currency (CNY, USD)",
    "balance": "Total balance owed",
    "principal": "Principal owed",
    "interest": "Interest owed",
    "penalty": "Penalty interest owed",
    "fees": "Fees owed",
    "amount_overdue": "Overdue instalments plus penalty and fees",
    "due_date": "Due date of the oldest unpaid instalment (ISO date)",
    "next_due_date": "Due date of the next instalment not yet due (ISO date, may be empty)",
    "next_due_amount": "Amount of that next instalment",
    "days_past_due": "Days past due",
    "pay_by": "Pay-by date: seven days after the message date (ISO date)",
    "how_to_pay": "How to pay, in the message's language",
    "opt_out": "How to opt out of SMS/email, in the message's language (empty for letters)",
    "today": "The message date (ISO date)",
    "settlement_amount": "Amount that settles the debt under its approved offer (empty without one)",
    "settlement_valid_until": "Last day of that offer (ISO date, empty without one)",
}

PAY_WITHIN = timedelta(days=7)
_MISSING = "\x00MISSING:%s\x00"
_MISSING_RE = re.compile("\x00MISSING:(.*?)\x00")

HOW_TO_PAY = {
    "en": "Pay by bank transfer to {creditor}, quoting account {account}{phone}.",
    "zh-hans": "请通过银行转账向{creditor}还款，并注明账号{account}{phone}。",
}
PHONE_SUFFIX = {"en": " (questions: {phone})", "zh-hans": "（咨询电话：{phone}）"}
OPT_OUT = {
    ("sms", "en"): "Reply STOP to opt out.",
    ("sms", "zh-hans"): "回复TD退订",
    ("email", "en"): "To stop these emails, reply with the word STOP.",
    ("email", "zh-hans"): "如不希望再收到此类邮件，请回复“退订”。",
}

_engine = Engine(autoescape=False, string_if_invalid=_MISSING, debug=True)


class TemplateRenderError(ValueError):
    """A template that cannot be rendered; ``str()`` names it and says why."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def build_context(*, debt, language: str, channel: str, today: date) -> dict[str, str]:
    """The variables for ``debt`` on ``today`` as display strings."""
    creditor = debt.creditor
    tolerance = debt.product.policy.tolerance
    unpaid = [i for i in debt.instalments.all().order_by("due_on", "number") if i.owed > tolerance]
    overdue = [i for i in unpaid if i.due_on < today]
    upcoming = [i for i in unpaid if i.due_on >= today]
    oldest = overdue[0] if overdue else (upcoming[0] if upcoming else None)
    amount_overdue = sum((i.owed for i in overdue), ZERO) + debt.penalty_balance + debt.fees_balance
    lang = language if language in HOW_TO_PAY else "en"
    offer = _open_settlement(debt, today)
    phone = PHONE_SUFFIX[lang].format(phone=creditor.phone) if creditor.phone else ""
    return {
        "customer_name": debt.customer.name,
        "account_number": debt.account_number,
        "creditor": creditor.name,
        "creditor_phone": creditor.phone or "",
        "currency": debt.currency,
        "balance": _money(debt.total_balance),
        "principal": _money(debt.principal_balance),
        "interest": _money(debt.interest_balance),
        "penalty": _money(debt.penalty_balance),
        "fees": _money(debt.fees_balance),
        "amount_overdue": _money(amount_overdue),
        "due_date": oldest.due_on.isoformat() if oldest else "",
        "next_due_date": upcoming[0].due_on.isoformat() if upcoming else "",
        "next_due_amount": _money(upcoming[0].owed) if upcoming else _money(ZERO),
        "days_past_due": str(debt.days_past_due),
        "pay_by": (today + PAY_WITHIN).isoformat(),
        "how_to_pay": HOW_TO_PAY[lang].format(
            creditor=creditor.name, account=debt.account_number, phone=phone
        ),
        "opt_out": OPT_OUT.get((channel, lang), ""),
        "today": today.isoformat(),
        "settlement_amount": _money(offer.amount - offer.paid_amount) if offer else "",
        "settlement_valid_until": offer.valid_until.isoformat() if offer else "",
    }


def _open_settlement(debt, today: date):
    """The approved, unexpired settlement offer on ``debt`` (a bulk small-balance
    offer's message quotes it: docs/small-balances.md), or ``None``."""
    from cases.models import Settlement

    return (
        Settlement.objects.filter(debt=debt, status=Settlement.Status.APPROVED, valid_until__gte=today)
        .order_by("id")
        .first()
    )


def sample_context(*, language: str, channel: str) -> dict[str, str]:
    """Plausible values for checking a template without a debt."""
    return {
        name: OPT_OUT.get((channel, language), "") if name == "opt_out" else f"[{name}]" for name in VARIABLES
    }


def _render_text(source: str, context: dict, *, label: str, part: str) -> str:
    try:
        template = _engine.from_string(source)
    except TemplateSyntaxError as exc:
        line = getattr(exc, "template_debug", {}).get("line")
        where = f" line {line}" if line else ""
        raise TemplateRenderError(f"Template {label}: {part}{where}: {exc}") from exc
    try:
        text = template.render(Context(context, autoescape=False))
    except Exception as exc:  # a filter or tag failing on the data
        raise TemplateRenderError(f"Template {label}: {part}: {type(exc).__name__}: {exc}") from exc
    missing = sorted(set(_MISSING_RE.findall(text)))
    if missing:
        raise TemplateRenderError(
            f"Template {label}: {part} uses unknown variable(s) {', '.join(missing)}; "
            f"known: {', '.join(VARIABLES)}."
        )
    return text.strip()


def render_source(*, subject: str, body: str, context: dict, label: str, language: str) -> Rendered:
    """Render a subject and body (strings) with ``context``; strict."""
    with translation.override(language):
        return Rendered(
            subject=" ".join(_render_text(subject or "", context, label=label, part="subject").split()),
            body=_render_text(body, context, label=label, part="body"),
        )


def render_template(template, *, context: dict) -> Rendered:
    """Render a ``MessageTemplate`` with ``context``; ``TemplateRenderError`` on any problem."""
    label = f"'{template.code}' ({template.channel}, {template.language})"
    return render_source(
        subject=template.subject, body=template.body, context=context, label=label, language=template.language
    )


def check_template_source(*, subject: str, body: str, channel: str, language: str) -> None:
    """Raise ``TemplateRenderError`` when the text would not render (admin form check)."""
    render_source(
        subject=subject,
        body=body,
        context=sample_context(language=language, channel=channel),
        label="being edited",
        language=language,
    )

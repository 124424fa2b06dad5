"""Forms of the collector workbench (admin actions, My queue, the case page).

The forms only collect and shape input; every business rule is checked by
the service the view calls, and ``add_service_errors`` puts the service's
refusal back on the form, per field where it can.
"""

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from backoffice.roles import COLLECTOR, TEAM_LEAD
from cases.models import CollectionCase, ContactAttempt, Dispute, Hold, Payment, Settlement
from cases.services.promises import MAX_PROMISE_DAYS

# simple-history keeps the change reason in a 100-character column, and
# every service write carries the reason into it (cases.services.holds).
REASON_MAX = 100

DATE_INPUT = {"attrs": {"type": "date"}, "format": "%Y-%m-%d"}


def _date_widget() -> forms.DateInput:
    return forms.DateInput(**DATE_INPUT)


def _reason_field(label=None, help_text="") -> forms.CharField:
    return forms.CharField(
        label=label or _("reason"),
        max_length=REASON_MAX,
        help_text=help_text,
        widget=forms.TextInput(attrs={"size": 40}),
    )


def add_service_errors(
    form: forms.Form, exc: ValidationError, field_map: dict[str, str] | None = None
) -> None:
    """Show a service's ``ValidationError`` (or ``Conflict``) on ``form``.

    Keys the form has (directly or through ``field_map``) become field
    errors; the rest become non-field errors, prefixed with the key so the
    message still says what it is about.
    """
    field_map = field_map or {}
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, messages in exc.message_dict.items():
        target = field_map.get(key, key)
        if target in form.fields:
            form.add_error(target, messages)
        elif key in ("__all__", "detail", "reason", "rules"):
            form.add_error(None, messages)
        else:
            form.add_error(None, [f"{key}: {m}" for m in messages])


def assignable_collectors():
    """Active staff in the Collector or Team lead group (``assign_cases`` checks again)."""
    return (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True, groups__name__in=[COLLECTOR, TEAM_LEAD])
        .distinct()
        .order_by("username")
    )


# --- changelist actions ------------------------------------------------------------------


class AssignCasesForm(forms.Form):
    collector = forms.ModelChoiceField(
        label=_("collector"), queryset=get_user_model().objects.none(), required=False
    )
    team = forms.ModelChoiceField(label=_("team"), queryset=None, required=False)
    reason = _reason_field()

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collector"].queryset = assignable_collectors()
        self.fields["team"].queryset = teams.order_by("name")
        self.fields["collector"].help_text = _(
            "Give a collector, a team (the team's pool), or both when the collector is a member."
        )

    def clean(self):
        data = super().clean()
        if not data.get("collector") and not data.get("team"):
            raise ValidationError(_("Choose a collector or a team."))
        return data


class ReasonForm(forms.Form):
    reason = _reason_field()


class ResolveDisputeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("outcome"), choices=Dispute.Outcome.choices)
    resolved_on = forms.DateField(label=_("resolved on"), widget=_date_widget())
    reason = _reason_field(_("resolution note"))
    consumer_disagrees = forms.BooleanField(label=_("consumer still disagrees"), required=False)
    verification_sent_on = forms.DateField(
        label=_("verification mailed on"),
        required=False,
        widget=_date_widget(),
        help_text=_("Required for a verified US dispute."),
    )


# --- the case page: quick actions -------------------------------------------------------


class RowChoiceField(forms.ChoiceField):
    """A choice among rows the page has already loaded; cleans to the row.

    The case page loads the case's debts, contact points and settlements
    once; rendering and validating the choices must not read them again.
    """

    def __init__(self, *, label_from_instance=str, **kwargs):
        self.label_from_instance = label_from_instance
        self._rows: dict[str, object] = {}
        super().__init__(choices=[], **kwargs)

    def set_rows(self, rows, label_from_instance=None) -> None:
        if label_from_instance is not None:
            self.label_from_instance = label_from_instance
        self._rows = {str(row.pk): row for row in rows}
        empty = [] if self.required and isinstance(self.widget, forms.HiddenInput) else [("", "---------")]
        self.choices = empty + [(key, self.label_from_instance(row)) for key, row in self._rows.items()]

    def to_python(self, value):
        if value in self.empty_values:
            return None
        return self._rows.get(str(value), value)

    def validate(self, value):
        if value is None:
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return
        if isinstance(value, str) or str(value.pk) not in self._rows:
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value}
            )


class CaseForm(forms.Form):
    """A quick-action form of one case: choices come from the case's rows."""

    def __init__(self, *args, overview, **kwargs):
        super().__init__(*args, **kwargs)
        self.overview = overview
        if "debt" in self.fields:
            self.fields["debt"].set_rows(
                overview.debts, lambda d: f"{d.account_number} · {d.total_balance} {d.currency}"
            )


OUTCOMES = [(v, label) for v, label in ContactAttempt.Outcome.choices if v != ContactAttempt.Outcome.REFUSED]


class LogContactForm(CaseForm):
    """A call, message or visit; with outcome *promise*, the promise too."""

    contact_point = RowChoiceField(label=_("contact point"), required=False)
    third_party = RowChoiceField(
        label=_("third party"),
        required=False,
        help_text=_("Only to locate a debtor who cannot be reached (RULES §4)."),
    )
    channel = forms.ChoiceField(label=_("channel"), choices=ContactAttempt.Channel.choices)
    direction = forms.ChoiceField(label=_("direction"), choices=ContactAttempt.Direction.choices)
    outcome = forms.ChoiceField(label=_("outcome"), choices=OUTCOMES)
    debt = RowChoiceField(label=_("debt"), required=False)
    duration_s = forms.IntegerField(label=_("duration (s)"), min_value=0, required=False, initial=0)
    note = forms.CharField(label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    callback_at = forms.DateTimeField(
        label=_("call back at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    promise_amount = forms.DecimalField(
        label=_("promised amount"), required=False, max_digits=18, decimal_places=2, min_value=Decimal("0.01")
    )
    promise_due_on = forms.DateField(label=_("promised by"), required=False, widget=_date_widget())

    # Service error keys → fields of this form.
    FIELD_MAP = {"amount": "promise_amount", "due_on": "promise_due_on", "started_at": "outcome"}

    def __init__(self, *args, overview, today: date, **kwargs):
        super().__init__(*args, overview=overview, **kwargs)
        self.today = today
        self.fields["contact_point"].set_rows(overview.contact_points, _contact_point_label)
        self.fields["third_party"].set_rows(
            overview.third_parties, lambda t: f"{t.name} ({t.get_relationship_display()})"
        )
        if not self.is_bound:
            phones = [p for p in overview.contact_points if p.kind == "phone" and not p.do_not_contact]
            if phones:
                self.initial.setdefault("contact_point", phones[0].pk)

    def clean(self):
        data = super().clean()
        if data.get("outcome") == ContactAttempt.Outcome.PROMISE:
            if data.get("promise_amount") is None:
                self.add_error("promise_amount", _("A promise needs the amount."))
            due_on = data.get("promise_due_on")
            if due_on is None:
                self.add_error("promise_due_on", _("A promise needs the date."))
            # Checked before the call is logged, so a bad date does not leave
            # a logged call without its promise (make_promise checks again).
            elif due_on < self.today:
                self.add_error("promise_due_on", _("A promise cannot be due in the past."))
            elif due_on > self.today + timedelta(days=MAX_PROMISE_DAYS):
                self.add_error(
                    "promise_due_on",
                    _("A promise is due within %(days)d days; agree a payment plan instead.")
                    % {"days": MAX_PROMISE_DAYS},
                )
        if data.get("outcome") == ContactAttempt.Outcome.CALLBACK and data.get("callback_at") is None:
            self.add_error("callback_at", _("A callback needs its date and time."))
        if data.get("duration_s") is None:
            data["duration_s"] = 0
        return data


def _contact_point_label(point) -> str:
    flags = []
    if point.primary:
        flags.append(str(_("primary")))
    if point.do_not_contact:
        flags.append(str(_("do not contact")))
    if point.consent is None:
        flags.append(str(_("unverified (bureau)")))
    elif not point.consent:
        flags.append(str(_("no consent")))
    suffix = f" ({', '.join(flags)})" if flags else ""
    return f"{point.get_kind_display()}: {point.value}{suffix}"


class PromiseForm(CaseForm):
    amount = forms.DecimalField(label=_("amount"), max_digits=18, decimal_places=2, min_value=Decimal("0.01"))
    due_on = forms.DateField(label=_("promised by"), widget=_date_widget())
    debt = RowChoiceField(label=_("debt"), required=False)


class PlanForm(CaseForm):
    debt = RowChoiceField(label=_("debt"))
    total = forms.DecimalField(label=_("agreed total"), max_digits=18, decimal_places=2)
    instalments = forms.CharField(
        label=_("instalments"),
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "2026-03-01 500.00\n2026-04-01 500.00"}),
        help_text=_("One instalment per line: due date and amount, e.g. 2026-03-01 500.00."),
    )

    def clean_instalments(self) -> list[dict]:
        lines, errors = [], []
        for n, raw in enumerate(self.cleaned_data["instalments"].splitlines(), start=1):
            parts = raw.replace(",", " ").replace(";", " ").split()
            if not parts:
                continue
            try:
                if len(parts) != 2:
                    raise ValueError
                lines.append({"due_on": date.fromisoformat(parts[0]), "amount": Decimal(parts[1])})
            except (ValueError, InvalidOperation):
                errors.append(_("Line %(n)d: write a date and an amount, e.g. 2026-03-01 500.00.") % {"n": n})
        if errors:
            raise ValidationError(errors)
        if not lines:
            raise ValidationError(_("A plan needs at least one instalment."))
        return lines


class SettlementOfferForm(CaseForm):
    debt = RowChoiceField(label=_("debt"))
    discount_percent = forms.DecimalField(
        label=_("discount (%)"), max_digits=5, decimal_places=2, min_value=Decimal("0.01")
    )
    valid_until = forms.DateField(label=_("valid until"), widget=_date_widget())


class SettlementDecisionForm(CaseForm):
    settlement = RowChoiceField(label=_("settlement"), widget=forms.HiddenInput)
    decision = forms.ChoiceField(
        label=_("decision"), choices=[("approve", _("Approve")), ("reject", _("Reject"))]
    )
    reason = _reason_field()

    def __init__(self, *args, overview, settlements, **kwargs):
        super().__init__(*args, overview=overview, **kwargs)
        pending = [s for s in settlements if s.status == Settlement.Status.PENDING_APPROVAL]
        self.fields["settlement"].set_rows(pending)


class DisputeForm(CaseForm):
    raised_via = forms.ChoiceField(label=_("raised via"), choices=Dispute.Via.choices)
    reason = forms.CharField(label=_("what the consumer disputes"), widget=forms.Textarea(attrs={"rows": 2}))
    debt = RowChoiceField(label=_("debt"), required=False)
    opened_on = forms.DateField(label=_("received on"), widget=_date_widget())


class HoldForm(CaseForm):
    operation = forms.ChoiceField(
        label=_("operation"), choices=[("place", _("Place hold")), ("release", _("Release hold"))]
    )
    hold = forms.ChoiceField(label=_("hold"), choices=Hold.choices)
    reason = _reason_field()


class StageForm(CaseForm):
    stage = forms.ChoiceField(label=_("stage"), choices=CollectionCase.Stage.choices)
    reason = _reason_field()


class PaymentClaimForm(CaseForm):
    """A debtor's "I paid", as a claim a second person approves (issue #14).

    The amount stays text here: ``cases.services.claims`` reads it strictly
    (a plain decimal, at most two places), so "1e3" is refused, not read as
    1000.00. The evidence file's type and size are checked there too.
    """

    debt = RowChoiceField(label=_("debt"))
    amount = forms.CharField(label=_("amount"), max_length=20, strip=False)
    received_on = forms.DateField(label=_("received on"), widget=_date_widget())
    channel = forms.ChoiceField(label=_("channel"), choices=Payment.Channel.choices)
    reference = forms.CharField(label=_("external reference"), max_length=100)
    evidence = forms.FileField(
        label=_("evidence (receipt)"),
        required=False,
        help_text=_("Optional: a PDF, PNG or JPEG of the receipt or transfer."),
    )

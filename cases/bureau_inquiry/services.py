"""Fetching bureau reports and applying skip-trace data (issue 6, "Inquiry").

``refresh_bureau_report`` is the one way a report is fetched: it calls the
bureau *outside* any transaction (a slow bureau must not hold row locks),
validates both replies whole, then writes the attempt, the snapshot and the
skip-trace results in one transaction. Whatever happens, exactly one
``BureauInquiryAttempt`` is written with a clear outcome; a snapshot exists
only for an ``ok`` attempt and is never half-written.

The attempt's times are the real clock (when we called the bureau); the
refresh *period* is the business date the caller passes.
"""

import logging
import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backoffice.access import may_request_bureau_report, writable_cases_for
from backoffice.audit import record
from backoffice.dispatch import enqueue_after_commit
from cases.bureau_inquiry.client import BureauClient, BureauError
from cases.bureau_inquiry.models import BureauInquiryAttempt, BureauReport, Outcome, Trigger
from cases.bureau_inquiry.payloads import SkipTrace
from cases.models import CollectionCase, Debt
from customers.models import ContactPoint, Customer, Jurisdiction, ThirdPartyContact, normalise_phone

logger = logging.getLogger(__name__)

BUREAU_SOURCE = "bureau"
REFRESH_NOW_TASK = "bureau_inquiry.refresh_bureau_report_now"  # cases.bureau_inquiry.tasks, enqueued by name


def subject_of(customer: Customer) -> dict:
    """What we send the bureau about a customer (docs/bureau-inquiry.md)."""
    return {
        "purpose": "debt_collection",
        "subject": {
            "reference": f"customer-{customer.pk}",
            "kind": customer.kind,
            "name": customer.name,
            "national_id": customer.national_id,
            "date_of_birth": customer.date_of_birth.isoformat() if customer.date_of_birth else None,
            "country": customer.jurisdiction,
        },
    }


def _existing_attempt_of_period(*, bureau: str, customer_id: int, period: str):
    if not period:
        return None
    return (
        BureauInquiryAttempt.objects.filter(
            report__bureau=bureau, report__customer_id=customer_id, report__period=period
        )
        .select_related("report")
        .first()
    )


def refresh_bureau_report(
    *,
    customer_id: int,
    actor,
    reason: str,
    debt_id: int | None = None,
    trigger: str = Trigger.MANUAL,
    period: str = "",
    client: BureauClient | None = None,
) -> BureauInquiryAttempt:
    """Fetch, validate and store one customer's report; the recorded attempt.

    Idempotent by (bureau, customer, period): a scheduled refresh that
    already stored the period's report returns that attempt without calling
    the bureau. Never raises for the bureau's failures.
    """
    reason = short_reason(reason)
    client = client or BureauClient()
    bureau = client.config.name
    customer = Customer.objects.get(pk=customer_id)
    done = _existing_attempt_of_period(bureau=bureau, customer_id=customer_id, period=period)
    if done is not None:
        return done
    started_at = timezone.now()
    base = {
        "bureau": bureau,
        "customer_id": customer_id,
        "debt_id": debt_id,
        "trigger": trigger,
        "period": period,
        "started_at": started_at,
        "requested_by": actor,
    }
    try:
        fetched = client.fetch(subject_of(customer), actor=actor)
    except BureauError as exc:
        return _record_failure(
            base,
            outcome=exc.outcome,
            detail=exc.detail,
            status=exc.http_status,
            tries=exc.tries,
            actor=actor,
            reason=reason,
        )
    except Exception as exc:  # a bug of ours must still end in a recorded attempt
        logger.exception("bureau fetch for customer %s failed", customer_id)
        return _record_failure(
            base,
            outcome=Outcome.ERROR,
            detail=f"{type(exc).__name__}: {exc}",
            status=None,
            tries=0,
            actor=actor,
            reason=reason,
        )
    try:
        with transaction.atomic():
            report = BureauReport(
                bureau=bureau,
                customer=customer,
                debt_id=debt_id,
                fetched_at=timezone.now(),
                request_id=fetched.report.request_id,
                period=period,
                score=fetched.report.score,
                score_model=fetched.report.score_model,
                open_tradelines=fetched.report.open_tradelines,
                tradelines=fetched.report.tradelines,
                recent_delinquencies=len(fetched.report.delinquencies),
                delinquencies=fetched.report.delinquencies,
                skip_trace=fetched.skip_trace.as_json(),
            )
            applied = apply_skip_trace(
                customer=customer, trace=fetched.skip_trace, actor=actor, reason=reason
            )
            report.contact_points_added = applied.contact_points_added
            report.employer_added = applied.employer_added
            record(report, actor=actor, reason=reason).save()
            attempt = BureauInquiryAttempt(
                **base,
                outcome=Outcome.OK,
                http_status=fetched.http_status,
                tries=fetched.tries,
                request_id=fetched.report.request_id,
                finished_at=timezone.now(),
                report=report,
                detail="; ".join(applied.notes)[:2000],
            )
            record(attempt, actor=actor, reason=reason).save()
            return attempt
    except IntegrityError as exc:
        # Another worker stored the period's report first: that one stands.
        done = _existing_attempt_of_period(bureau=bureau, customer_id=customer_id, period=period)
        if done is not None:
            return done
        return _record_failure(
            base,
            outcome=Outcome.MALFORMED,
            detail=f"not stored: {exc}"[:2000],
            status=fetched.http_status,
            tries=fetched.tries,
            actor=actor,
            reason=reason,
        )
    except Exception as exc:
        logger.exception("storing the bureau report of customer %s failed", customer_id)
        return _record_failure(
            base,
            outcome=Outcome.ERROR,
            detail=f"{type(exc).__name__}: {exc}"[:2000],
            status=fetched.http_status,
            tries=fetched.tries,
            actor=actor,
            reason=reason,
        )


def _record_failure(base: dict, *, outcome, detail, status, tries, actor, reason) -> BureauInquiryAttempt:
    with transaction.atomic():
        attempt = BureauInquiryAttempt(
            **base,
            outcome=outcome,
            http_status=status,
            tries=tries,
            detail=str(detail)[:2000],
            finished_at=timezone.now(),
        )
        record(attempt, actor=actor, reason=reason).save()
    return attempt


class AppliedSkipTrace:
    def __init__(self):
        self.contact_points_added = 0
        self.employer_added = False
        self.notes: list[str] = []


def _same_address(value: str) -> str:
    return " ".join(value.split()).casefold()


def apply_skip_trace(*, customer: Customer, trace: SkipTrace, actor, reason: str) -> AppliedSkipTrace:
    """Add the skip trace's new phones, emails and addresses as unverified
    contact points with source "bureau" and consent unknown (``None``: not
    dialled or messaged until verified), and its employer as a third party.

    Never changes an existing contact point (verified or not) and never adds
    one the customer already has (phones compared in E.164, emails and
    addresses case- and space-insensitively); an employer already known by
    name is not added again. Numbers that are not valid phone numbers are
    skipped and noted, not guessed at.
    """
    applied = AppliedSkipTrace()
    region = "US" if customer.jurisdiction == Jurisdiction.US else "CN"
    with transaction.atomic():
        # Lock the customer so two refreshes cannot add the same point twice.
        Customer.objects.select_for_update().filter(pk=customer.pk).first()
        known = {
            (kind, value if kind == ContactPoint.Kind.PHONE else _same_address(value))
            for kind, value in ContactPoint.objects.filter(customer=customer).values_list("kind", "value")
        }
        new_points: list[ContactPoint] = []

        def add(kind: str, value: str, key: str, label: str = "") -> None:
            if (kind, key) in known:
                return
            known.add((kind, key))
            new_points.append(
                ContactPoint(
                    customer=customer,
                    kind=kind,
                    value=value,
                    label=label[:40],
                    verified=False,
                    primary=False,
                    # Unknown until a collector verifies it: the contact
                    # rules refuse it meanwhile (LL-CONSENT-UNKNOWN, issue #15).
                    consent=None,
                    source=BUREAU_SOURCE,
                )
            )

        for phone in trace.phones:
            try:
                number = normalise_phone(phone["number"], region)
            except ValidationError:
                applied.notes.append(f"phone ignored (not a valid number): {phone['number']}")
                continue
            add(ContactPoint.Kind.PHONE, number, number, phone.get("type") or "")
        for email in trace.emails:
            value = email["value"].strip()
            try:
                validate_email(value)
            except ValidationError:
                applied.notes.append(f"email ignored (not valid): {value}")
                continue
            add(ContactPoint.Kind.EMAIL, value, _same_address(value))
        for address in trace.addresses:
            value = " ".join(address["value"].split())
            add(ContactPoint.Kind.ADDRESS, value, _same_address(value))
        for point in new_points:
            record(point, actor=actor, reason=reason).save()
        applied.contact_points_added = len(new_points)

        employer = trace.employer
        if (
            employer
            and not ThirdPartyContact.objects.filter(
                customer=customer,
                relationship=ThirdPartyContact.Relationship.EMPLOYER,
                name__iexact=employer["name"],
            ).exists()
        ):
            phone = ""
            if employer.get("phone"):
                try:
                    phone = normalise_phone(employer["phone"], region)
                except ValidationError:
                    applied.notes.append(f"employer phone ignored (not a valid number): {employer['phone']}")
            third = ThirdPartyContact(
                customer=customer,
                relationship=ThirdPartyContact.Relationship.EMPLOYER,
                name=employer["name"],
                phone=phone,
            )
            record(third, actor=actor, reason=reason).save()
            applied.employer_added = True
    return applied


def request_refresh_now(*, case: CollectionCase, actor, reason: str) -> CollectionCase:
    """ "Refresh now": queue a fetch of ``case``'s customer's report after
    commit (the bureau is never called inside a request's transaction).

    Raises ``ValidationError`` when ``actor`` may not ask for reports or not
    work on the case, when the reason is missing or the case is closed;
    nothing is queued then.
    """
    reason = short_reason(reason or "")
    if not reason:
        raise ValidationError({"reason": _("Say why the report is needed.")})
    if not may_request_bureau_report(actor):
        raise ValidationError(_("You may not request bureau reports."))
    with transaction.atomic():
        locked = writable_cases_for(actor).select_for_update(of=("self",)).filter(pk=case.pk).first()
        if locked is None:
            raise ValidationError(_("You may not work on this case."))
        if locked.stage == CollectionCase.Stage.CLOSED:
            raise ValidationError(_("The case is closed."))
        debt_id = (
            locked.debts.filter(status__in=Debt.ACTIVE_STATUSES)
            .order_by("-days_past_due", "id")
            .values_list("id", flat=True)
            .first()
        )
        customer_id, actor_id = locked.customer_id, actor.pk
        enqueue_after_commit(REFRESH_NOW_TASK, customer_id, debt_id, actor_id, reason)
        return locked


REASON_MAX = 100
_SPACES = re.compile(r"\s+")


def short_reason(text: str) -> str:
    """History change reasons hold 100 characters."""
    return _SPACES.sub(" ", text).strip()[:REASON_MAX]

"""The collector's screens: "My queue" and the case page (DESIGN.md).

Both are custom views of ``CollectionCaseAdmin`` (``admin_work``):

- ``my_queue_view``: the user's open cases in working order
  (``cases.selectors.work.my_queue``), a fixed number of queries per page.
- ``case_page_view``: one case on one screen — customer, contact points,
  debts with balances, holds, promises, plan, settlements, disputes, the
  timeline and the case's own history — with quick-action forms that post
  back to the page (POST-redirect-GET on success). The case is looked up
  through ``backoffice.access.cases_for``: a case the user may not see is a
  404, not a 403, so ids cannot be probed.

Quick actions call the services with ``actor=request.user`` and a reason;
a service's refusal comes back on the form (or, for a contact the rules
refused, as an error message while the refused attempt joins the timeline).
"""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseBadRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from backoffice.access import (
    can_view_full_id,
    cases_for,
    disputes_for,
    may_read_case_history,
    settlements_for,
    writable_cases_for,
)
from cases.forms import (
    DisputeForm,
    HoldForm,
    LogContactForm,
    PaymentClaimForm,
    PlanForm,
    PromiseForm,
    SettlementDecisionForm,
    SettlementOfferForm,
    StageForm,
    add_service_errors,
)
from cases.models import CollectionCase, ContactAttempt, Settlement, Team
from cases.selectors.work import case_overview, case_timeline, my_queue
from cases.services.assignment import worst_buckets
from cases.services.claims import submit_claim
from cases.services.contacts import ContactRefused, check_contact, log_contact
from cases.services.disputes import raise_dispute
from cases.services.holds import place_hold, release_hold
from cases.services.plans import create_plan
from cases.services.promises import make_promise
from cases.services.settlements import approval_limit, covers, decide_settlement, propose_settlement
from cases.services.stages import change_stage

QUEUE_PAGE_SIZE = 50
TIMELINE_LIMIT = 200
HISTORY_LIMIT = 50


# The model permission a quick action needs on top of a writable case; the
# others are decided by their service (stage moves, holds, approval limits).
ACTION_PERMISSIONS = {
    "contact": "cases.add_contactattempt",
    "promise": "cases.add_promisetopay",
    "plan": "cases.add_paymentplan",
    "settlement": "cases.add_settlement",
    "dispute": "cases.add_dispute",
    # Money taken on a call is a claim a second person approves (issue #14);
    # holders of ``cases.add_payment`` post through the payments screen.
    "claim": "cases.add_paymentclaim",
}


def may_work_case(user, case: CollectionCase) -> bool:
    """Whether the quick actions are offered: ``backoffice.access`` decides
    which cases a user may change work on (the services check again)."""
    return writable_cases_for(user).filter(pk=case.pk).exists()


def _context(model_admin, request, **extra) -> dict:
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "my_queue_url": reverse("admin:cases_collectioncase_my_queue"),
        **extra,
    }


# --- My queue ------------------------------------------------------------------------------


def my_queue_view(model_admin, request):
    """The user's open cases: promises due today, callbacks due, then priority."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    today = timezone.localdate()
    queue = my_queue(request.user, today=today).filter(pk__in=cases_for(request.user).values("pk"))
    page = Paginator(queue, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    cases = list(page.object_list)
    buckets = worst_buckets([case.pk for case in cases])
    rows = [
        {
            "case": case,
            "bucket": buckets.get(case.pk, "current"),
            "url": reverse("admin:cases_collectioncase_work", args=[case.pk]),
        }
        for case in cases
    ]
    context = _context(
        model_admin,
        request,
        title=gettext("My queue"),
        rows=rows,
        page=page,
        today=today,
    )
    return TemplateResponse(request, "admin/cases/collectioncase/my_queue.html", context)


# --- the case page ------------------------------------------------------------------------------


class PartlyDone(Exception):
    """The first step of a quick action was saved, the second was refused."""


@dataclass(frozen=True)
class QuickAction:
    form: type
    handler: object
    field_map: dict | None = None


def _log_contact(*, case, form, user, today) -> str:
    data = form.cleaned_data
    third_party = data["third_party"]
    attempt = log_contact(
        case=case,
        party=ContactAttempt.Party.THIRD_PARTY if third_party else ContactAttempt.Party.DEBTOR,
        channel=data["channel"],
        direction=data["direction"],
        outcome=data["outcome"],
        started_at=timezone.now(),
        actor=user,
        contact_point=None if third_party else data["contact_point"],
        third_party=third_party,
        debt=data["debt"],
        note=data["note"],
        duration_s=data["duration_s"],
        callback_at=data["callback_at"],
        reason="contact logged on the case page",
    )
    if data["outcome"] != ContactAttempt.Outcome.PROMISE:
        return gettext("Contact logged: %(outcome)s.") % {"outcome": attempt.get_outcome_display()}
    try:
        promise = make_promise(
            case=case,
            amount=data["promise_amount"],
            due_on=data["promise_due_on"],
            today=today,
            actor=user,
            debt=data["debt"],
            contact=attempt,
            reason="promise to pay taken on a call",
        )
    except ValidationError as exc:
        raise PartlyDone(
            gettext("The contact was logged, but the promise was not recorded: %(why)s")
            % {"why": " ".join(exc.messages)}
        ) from exc
    return gettext("Contact logged with a promise to pay %(amount)s by %(due)s.") % {
        "amount": promise.amount,
        "due": promise.due_on.isoformat(),
    }


def _promise(*, case, form, user, today) -> str:
    data = form.cleaned_data
    promise = make_promise(
        case=case,
        amount=data["amount"],
        due_on=data["due_on"],
        today=today,
        actor=user,
        debt=data["debt"],
        reason="promise to pay recorded on the case page",
    )
    return gettext("Promise to pay %(amount)s by %(due)s recorded.") % {
        "amount": promise.amount,
        "due": promise.due_on.isoformat(),
    }


def _plan(*, case, form, user, today) -> str:
    data = form.cleaned_data
    plan = create_plan(
        case=case,
        debt=data["debt"],
        total=data["total"],
        instalments=data["instalments"],
        today=today,
        actor=user,
        reason="payment plan agreed on the case page",
    )
    return gettext("Payment plan for %(total)s in %(count)d instalment(s) agreed.") % {
        "total": plan.total,
        "count": len(data["instalments"]),
    }


def _settlement(*, case, form, user, today) -> str:
    data = form.cleaned_data
    settlement = propose_settlement(
        case=case,
        debt=data["debt"],
        discount_percent=data["discount_percent"],
        valid_until=data["valid_until"],
        today=today,
        actor=user,
        reason="settlement offered on the case page",
    )
    if settlement.status == Settlement.Status.APPROVED:
        return gettext("Settlement offer approved: pay %(amount)s by %(until)s.") % {
            "amount": settlement.amount,
            "until": settlement.valid_until.isoformat(),
        }
    return gettext("Settlement offer of %(amount)s waits for approval (above your limit).") % {
        "amount": settlement.amount
    }


def _decide_settlement(*, case, form, user, today) -> str:
    data = form.cleaned_data
    approve = data["decision"] == "approve"
    decide_settlement(settlement=data["settlement"], approve=approve, actor=user, reason=data["reason"])
    return gettext("Settlement approved.") if approve else gettext("Settlement rejected.")


def _dispute(*, case, form, user, today) -> str:
    data = form.cleaned_data
    raise_dispute(
        case=case,
        raised_via=data["raised_via"],
        reason=data["reason"],
        opened_on=data["opened_on"],
        actor=user,
        debt=data["debt"],
    )
    return gettext("Dispute raised; the case is on the dispute hold.")


def _claim(*, case, form, user, today) -> str:
    data = form.cleaned_data
    claim = submit_claim(
        debt=data["debt"],
        amount=data["amount"],
        received_on=data["received_on"],
        channel=data["channel"],
        reference=data["reference"],
        evidence=data["evidence"],
        actor=user,
        reason="payment claim recorded on the case page",
        today=today,
    )
    text = gettext("Payment claim of %(amount)s %(currency)s recorded; it reaches the ledger once approved.")
    return text % {
        "amount": claim.amount,
        "currency": claim.currency,
    }


def _hold(*, case, form, user, today) -> str:
    data = form.cleaned_data
    if data["operation"] == "place":
        place_hold(case=case, hold=data["hold"], actor=user, reason=data["reason"])
        return gettext("Hold placed.")
    release_hold(case=case, hold=data["hold"], actor=user, reason=data["reason"])
    return gettext("Hold released.")


def _stage(*, case, form, user, today) -> str:
    data = form.cleaned_data
    change_stage(case=case, stage=data["stage"], actor=user, reason=data["reason"], today=today)
    return gettext("Stage changed.")


QUICK_ACTIONS: dict[str, QuickAction] = {
    "contact": QuickAction(LogContactForm, _log_contact, LogContactForm.FIELD_MAP),
    "promise": QuickAction(PromiseForm, _promise),
    "plan": QuickAction(PlanForm, _plan),
    "settlement": QuickAction(SettlementOfferForm, _settlement),
    "decision": QuickAction(SettlementDecisionForm, _decide_settlement),
    "dispute": QuickAction(DisputeForm, _dispute),
    "claim": QuickAction(PaymentClaimForm, _claim),
    "hold": QuickAction(HoldForm, _hold),
    "stage": QuickAction(StageForm, _stage),
}


def _make_form(name: str, data, *, overview, settlements, today, files=None):
    kwargs = {"prefix": name, "overview": overview, "files": files}
    if name == "decision":
        kwargs["settlements"] = settlements
    if name == "contact":
        kwargs["today"] = today
    if data is None:
        kwargs["initial"] = {
            "promise": {"due_on": today},
            "dispute": {"opened_on": today},
            "claim": {"received_on": today},
            "stage": {"stage": overview.case.stage},
        }.get(name, {})
    return QUICK_ACTIONS[name].form(data, **kwargs)


def _has_action_permission(user, name: str) -> bool:
    permission = ACTION_PERMISSIONS.get(name)
    return permission is None or user.has_perm(permission)


def _visible_case(user, object_id) -> CollectionCase:
    try:
        pk = int(object_id)
    except (TypeError, ValueError):
        raise Http404 from None
    case = cases_for(user).filter(pk=pk).first()
    if case is None:
        raise Http404(gettext("No such case."))
    return case


def case_page_view(model_admin, request, object_id):
    """The whole story of one case on one screen, and the quick actions."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    user = request.user
    case = _visible_case(user, object_id)
    may_work = may_work_case(user, case)
    today = timezone.localdate()
    page_url = reverse("admin:cases_collectioncase_work", args=[case.pk])
    overview = case_overview(case)
    settlements = list(
        settlements_for(user)
        .filter(case_id=case.pk)
        .select_related("debt__product__policy", "requested_by", "approved_by")
        .order_by("-id")
    )
    allowed = [name for name in QUICK_ACTIONS if may_work and _has_action_permission(user, name)]
    forms = {
        name: _make_form(name, None, overview=overview, settlements=settlements, today=today)
        for name in allowed
    }
    if request.method == "POST":
        name = request.POST.get("action", "")
        if name not in QUICK_ACTIONS:
            return HttpResponseBadRequest(gettext("Unknown action."))
        if name not in allowed:
            raise PermissionDenied
        form = _make_form(
            name, request.POST, overview=overview, settlements=settlements, today=today, files=request.FILES
        )
        if form.is_valid():
            action = QUICK_ACTIONS[name]
            try:
                text = action.handler(case=overview.case, form=form, user=user, today=today)
            except ContactRefused as exc:
                messages.error(request, _refusal_message(exc))
                return HttpResponseRedirect(page_url)
            except PartlyDone as exc:
                messages.warning(request, str(exc))
                return HttpResponseRedirect(page_url)
            except ValidationError as exc:
                add_service_errors(form, exc, action.field_map)
            else:
                messages.success(request, text)
                return HttpResponseRedirect(page_url)
        messages.error(request, gettext("Nothing was saved; see the form marked below."))
        forms[name] = form

    shows_history = may_read_case_history(user, case)
    context = _context(
        model_admin,
        request,
        title=str(overview.case),
        case=overview.case,
        overview=overview,
        customer=overview.customer,
        # Always the mask (issue #15): a holder of view_full_id reveals one
        # value, with a reason and an access record, on the customer's page.
        national_id=overview.customer.masked_national_id,
        reveal_url=(
            reverse("admin:customers_customer_change", args=[overview.customer.pk])
            if can_view_full_id(user) and overview.customer.national_id
            else ""
        ),
        customer_now=_customer_now(overview.customer),
        settlements=_settlement_rows(settlements, user),
        disputes=list(disputes_for(user).filter(case_id=case.pk).order_by("-opened_on", "-id")),
        timeline=case_timeline(case, limit=TIMELINE_LIMIT, user=user),
        timeline_limit=TIMELINE_LIMIT,
        # Agency staff read the case's own history only where the placement
        # shares the lender's contact history (backoffice.access, issue #15).
        history=_case_history(case.pk) if shows_history else None,
        history_url=reverse("admin:cases_collectioncase_history", args=[case.pk]) if shows_history else None,
        change_url=reverse("admin:cases_collectioncase_change", args=[case.pk]),
        compliance=_compliance(overview, user) if may_work else None,
        may_work=may_work,
        forms=forms,
        post_payment_url=(
            reverse("admin:cases_payment_add") if may_work and user.has_perm("cases.add_payment") else None
        ),
        errors_in=request.POST.get("action") if request.method == "POST" else None,
        media=model_admin.media,
    )
    return TemplateResponse(request, "admin/cases/collectioncase/case_page.html", context)


def _refusal_message(exc: ContactRefused) -> str:
    text = gettext("Contact refused by the contact rules (%(rules)s): %(reason)s") % {
        "rules": ", ".join(exc.rules),
        "reason": exc.reason,
    }
    if exc.decision.next_allowed_at:
        text += " " + gettext("Next allowed: %(at)s.") % {
            "at": timezone.localtime(exc.decision.next_allowed_at).strftime("%Y-%m-%d %H:%M %Z")
        }
    return text


def _customer_now(customer) -> str | None:
    """The customer's wall-clock time, formatted here: the template's ``date``
    filter would convert it back to the server's zone."""
    if not customer.time_zone:
        return None
    try:
        return timezone.now().astimezone(ZoneInfo(customer.time_zone)).strftime("%H:%M")
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _settlement_rows(settlements: list[Settlement], user) -> list[dict]:
    """Each offer with whether this user's approval limit covers it (one
    group lookup per policy on the page)."""
    limits: dict[int, object] = {}
    rows = []
    for settlement in settlements:
        can_decide = False
        if settlement.status == Settlement.Status.PENDING_APPROVAL:
            policy = settlement.debt.product.policy
            if policy.pk not in limits:
                limits[policy.pk] = approval_limit(user, policy)
            can_decide = covers(limits[policy.pk], settlement.discount_percent)
        rows.append({"settlement": settlement, "can_decide": can_decide})
    return rows


def _compliance(overview, user) -> dict:
    """The contact rules' answer for calling the primary phone right now.

    A number whose consent is unknown (skip-traced, not yet verified) is
    offered only when there is no other: the rules then refuse it
    (``LL-CONSENT-UNKNOWN``), so it is never shown as one to dial."""
    phones = [p for p in overview.contact_points if p.kind == "phone"]
    phones = [p for p in phones if p.consent is not None] or phones
    point = next((p for p in phones if p.primary), phones[0] if phones else None)
    if point is None:
        return {"point": None}
    try:
        decision = check_contact(
            case=overview.case,
            party=ContactAttempt.Party.DEBTOR,
            channel=ContactAttempt.Channel.CALL,
            at=timezone.now(),
            actor=user,
            contact_point=point,
        )
    except ValidationError as exc:
        return {"point": point, "error": " ".join(exc.messages)}
    return {"point": point, "decision": decision}


def _case_history(case_id: int) -> list[dict]:
    """The newest history rows of the case with field-level changes.

    One query for the rows (one more row than shown, to diff the oldest
    shown against), at most two for the users and teams the changes name.
    """
    rows = list(
        CollectionCase.history.filter(id=case_id)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")[: HISTORY_LIMIT + 1]
    )
    entries = []
    user_ids, team_ids = set(), set()
    for index, row in enumerate(rows[:HISTORY_LIMIT]):
        older = rows[index + 1] if index + 1 < len(rows) else None
        changes = row.diff_against(older).changes if older is not None else []
        for change in changes:
            ids = user_ids if change.field == "assigned_to" else team_ids if change.field == "team" else None
            if ids is not None:
                ids.update(v for v in (change.old, change.new) if v is not None)
        entries.append({"row": row, "changes": changes})
    users = get_user_model().objects.in_bulk(user_ids) if user_ids else {}
    teams = Team.objects.in_bulk(team_ids) if team_ids else {}
    names = {"assigned_to": users, "team": teams}
    for entry in entries:
        entry["changes"] = [
            {
                "field": _field_label(change.field),
                "old": _display(change.field, change.old, names),
                "new": _display(change.field, change.new, names),
            }
            for change in entry["changes"]
        ]
    return entries


def _field_label(name: str) -> str:
    try:
        return str(CollectionCase._meta.get_field(name).verbose_name)
    except Exception:  # noqa: BLE001 — a field dropped since the row was written
        return name


def _display(field: str, value, names: dict) -> str:
    if value is None or value == "":
        return "—"
    if field in names:
        obj = names[field].get(value)
        return str(obj) if obj is not None else f"#{value}"
    if field == "stage":
        return str(dict(CollectionCase.Stage.choices).get(value, value))
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "—"
    return str(value)

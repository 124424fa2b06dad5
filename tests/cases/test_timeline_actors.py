"""The case timeline names who did what: a resolved dispute's actor is the
user who resolved it (issue #16), read from the dispute's history."""

from datetime import date

import pytest

from cases.models import Dispute
from cases.selectors.work import case_timeline
from cases.services.disputes import raise_dispute, resolve_dispute
from tests.factories import UserFactory, make_debt

pytestmark = pytest.mark.django_db


def raise_and_resolve(debt, *, raised_by, resolved_by, outcome="verified"):
    item = raise_dispute(
        case=debt.case,
        debt=debt,
        raised_via="phone",
        reason="Not my loan",
        opened_on=date(2026, 2, 1),
        actor=raised_by,
    )
    return resolve_dispute(
        dispute=item,
        outcome=outcome,
        resolved_on=date(2026, 2, 20),
        actor=resolved_by,
        reason="contract and ID checked",
    )


def dispute_events(case):
    return [e for e in case_timeline(case) if e["kind"] == "dispute"]


def test_the_dispute_resolved_event_names_the_user_who_resolved_it():
    raiser = UserFactory(username="raiser")
    resolver = UserFactory(username="resolver", first_name="Li", last_name="Na")
    debt = make_debt()
    raise_and_resolve(debt, raised_by=raiser, resolved_by=resolver)
    events = dispute_events(debt.case)
    resolved = [e for e in events if e["summary"].startswith("Dispute resolved")]
    raised = [e for e in events if e["summary"].startswith("Dispute raised")]
    assert len(resolved) == 1 and resolved[0]["actor"] == resolver
    assert len(raised) == 1 and raised[0]["actor"] == raiser


def test_later_edits_of_a_resolved_dispute_do_not_change_who_resolved_it():
    resolver = UserFactory(username="resolver")
    editor = UserFactory(username="editor")
    debt = make_debt()
    item = raise_and_resolve(debt, raised_by=resolver, resolved_by=resolver)
    item.consumer_disagrees = True
    item._history_user = editor
    item.save()
    (resolved,) = [e for e in dispute_events(debt.case) if e["summary"].startswith("Dispute resolved")]
    assert resolved["actor"] == resolver


def test_an_open_dispute_has_no_resolved_event():
    raiser = UserFactory(username="raiser")
    debt = make_debt()
    raise_dispute(
        case=debt.case, raised_via="letter", reason="Wrong amount", opened_on=date(2026, 2, 1), actor=raiser
    )
    events = dispute_events(debt.case)
    assert [e["actor"] for e in events] == [raiser]
    assert not any(e["summary"].startswith("Dispute resolved") for e in events)


def test_resolvers_cost_one_query_whatever_the_number_of_resolved_disputes(django_assert_max_num_queries):
    """One query per kind of event as in test_queue, plus one for the
    resolvers of all the case's resolved disputes."""
    debt = make_debt()
    resolvers = [UserFactory(username=f"resolver{n}") for n in range(4)]
    for resolver in resolvers:
        raise_and_resolve(debt, raised_by=resolver, resolved_by=resolver)
    assert Dispute.objects.filter(case=debt.case, status=Dispute.Status.RESOLVED).count() == 4
    with django_assert_max_num_queries(11):
        events = case_timeline(debt.case)
    resolved = [e for e in events if e["summary"].startswith("Dispute resolved")]
    assert sorted(e["actor"].username for e in resolved) == [r.username for r in resolvers]

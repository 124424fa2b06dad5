"""RULES §7: the legal stage machine — every allowed move, every refused jump."""

from datetime import date

import pytest

from backoffice.errors import Conflict
from legal.models import LegalMatter, StageTransition
from legal.services import NEXT_STAGES, transition_matter
from tests.legal.helpers import extra_for, move, walk_to

Stage = LegalMatter.Stage
ON = date(2026, 4, 1)

ALLOWED = [(src, dst) for src, targets in NEXT_STAGES.items() for dst in targets]
REFUSED = [(src, dst) for src in Stage.values for dst in Stage.values if dst not in NEXT_STAGES[src]]


def test_the_machine_is_rules_section_7():
    assert set(NEXT_STAGES[Stage.DEMAND_LETTER]) == {
        Stage.MEDIATION,
        Stage.FILED,
        Stage.PAYMENT_ORDER,
        Stage.CLOSED,
    }
    assert NEXT_STAGES[Stage.PAYMENT_ORDER] == (Stage.ENFORCEMENT, Stage.CLOSED)
    assert all(Stage.CLOSED in NEXT_STAGES[s] for s in Stage.values if s != Stage.CLOSED)
    assert NEXT_STAGES[Stage.CLOSED] == ()


@pytest.mark.parametrize(("src", "dst"), ALLOWED, ids=[f"{a}->{b}" for a, b in ALLOWED])
def test_allowed_transition_moves_the_matter_and_records_who_when_why(matter, legal_user, src, dst):
    walk_to(matter, src, legal_user)
    moved = transition_matter(
        matter=matter, stage=dst, on=ON, actor=legal_user, reason="next step", **extra_for(dst)
    )
    assert moved.stage == dst
    assert moved.stage_changed_on == ON
    last = StageTransition.objects.filter(matter=matter).latest("id")
    assert (last.from_stage, last.to_stage, last.on, last.actor, last.reason) == (
        src,
        dst,
        ON,
        legal_user,
        "next step",
    )
    assert matter.history.latest().history_change_reason == "next step"


@pytest.mark.parametrize(("src", "dst"), REFUSED, ids=[f"{a}->{b}" for a, b in REFUSED])
def test_any_other_jump_is_refused_naming_the_allowed_next_stages(matter, legal_user, src, dst):
    walk_to(matter, src, legal_user)
    transitions = StageTransition.objects.filter(matter=matter).count()
    with pytest.raises(Conflict) as refused:
        transition_matter(matter=matter, stage=dst, on=ON, actor=legal_user, reason="jump", **extra_for(dst))
    message = " ".join(refused.value.message_dict["stage"])
    assert "allowed next" in message
    for allowed in NEXT_STAGES[src]:
        assert allowed in message
    matter.refresh_from_db()
    assert matter.stage == src
    assert StageTransition.objects.filter(matter=matter).count() == transitions


def test_payment_order_path_goes_from_demand_letter_to_enforcement(matter, legal_user):
    move(matter, Stage.PAYMENT_ORDER, legal_user, date(2026, 3, 2))
    move(matter, Stage.ENFORCEMENT, legal_user, date(2026, 4, 2))
    matter.refresh_from_db()
    assert matter.stage == Stage.ENFORCEMENT
    assert list(matter.transitions.values_list("to_stage", flat=True)) == [
        Stage.DEMAND_LETTER,
        Stage.PAYMENT_ORDER,
        Stage.ENFORCEMENT,
    ]


def test_mediation_may_be_skipped(matter, legal_user):
    move(matter, Stage.FILED, legal_user, date(2026, 3, 2))
    matter.refresh_from_db()
    assert matter.stage == Stage.FILED


def test_closing_needs_an_outcome(matter, legal_user):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        transition_matter(matter=matter, stage=Stage.CLOSED, on=ON, actor=legal_user, reason="close")
    assert "outcome" in refused.value.message_dict


def test_closing_the_last_matter_releases_the_legal_hold(matter, legal_user):
    assert "legal" in matter.case.__class__.objects.get(pk=matter.case_id).holds
    transition_matter(
        matter=matter,
        stage=Stage.CLOSED,
        on=ON,
        actor=legal_user,
        reason="paid",
        outcome=LegalMatter.Outcome.PAID,
    )
    matter.refresh_from_db()
    assert (matter.stage, matter.outcome, matter.closed_on) == (Stage.CLOSED, "paid", ON)
    assert "legal" not in matter.case.__class__.objects.get(pk=matter.case_id).holds


def test_judgment_needs_its_amount(matter, legal_user):
    from django.core.exceptions import ValidationError

    walk_to(matter, Stage.HEARING, legal_user)
    with pytest.raises(ValidationError) as refused:
        transition_matter(matter=matter, stage=Stage.JUDGMENT, on=ON, actor=legal_user, reason="judged")
    assert "amount" in refused.value.message_dict


def test_filing_on_a_time_barred_debt_is_refused(matter, debt, legal_user):
    type(debt).objects.filter(pk=debt.pk).update(limitation_on=date(2026, 3, 15))
    with pytest.raises(Conflict) as refused:
        transition_matter(matter=matter, stage=Stage.FILED, on=ON, actor=legal_user, reason="file")
    assert "time_barred" in refused.value.message_dict


def test_a_collector_may_not_move_a_matter(matter, setup_roles):
    from backoffice import roles
    from backoffice.errors import NotAllowed
    from tests.legal.conftest import user_in

    collector = user_in(roles.COLLECTOR, "c1")
    with pytest.raises(NotAllowed):
        transition_matter(matter=matter, stage=Stage.FILED, on=ON, actor=collector, reason="file")
    matter.refresh_from_db()
    assert matter.stage == Stage.DEMAND_LETTER

"""Monthly submissions: generated once per creditor and month, sent through
the transport, answered by the bureau; the monthly task and commands."""

from datetime import date
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from backoffice.errors import Conflict
from cases.bureau.models import BureauSubmission, FurnisherProfile
from cases.bureau.reader import read_metro2, validate_metro2
from cases.bureau.services import parse_period, record_bureau_response, send_submission
from cases.bureau.tasks import furnish_month
from cases.bureau.transport import LocalDirectoryTransport, TransportError
from tests.bureau.factories import PERIOD, generate, us_debt, us_product
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def actor():
    return UserFactory(username="bureau-ops")


@pytest.fixture
def portfolio():
    """Two reportable US accounts of one creditor and one held back (no letter)."""
    product = us_product()
    first = us_debt(product, through=None)
    second = us_debt(product, through=None)
    us_debt(product, letter_on=None)  # closes all three through the period's end
    return product.creditor, [first, second]


def lines_of(submission) -> list[str]:
    with submission.file.open("rb") as handle:
        return handle.read().decode("ascii").splitlines()


def test_generating_stores_a_valid_file_with_counts_and_totals(portfolio, actor):
    creditor, debts = portfolio
    submission = generate(creditor, actor=actor)
    assert submission.status == BureauSubmission.Status.GENERATED
    assert submission.file_name == f"METRO2_{creditor.short_code.upper()}_202606.txt"
    lines = lines_of(submission)
    assert validate_metro2(lines) == []
    assert len(lines) == 4
    accounts = {r.fields["consumer_account_number"] for r in read_metro2(lines) if r.kind == "base"}
    assert accounts == {d.account_number for d in debts}
    assert submission.base_records == 2
    assert submission.status_counts == {"83": 2}
    assert submission.skipped == {"US: no letter sent 14 days before": 1}
    assert submission.total_current_balance == 2 * 3150
    assert submission.total_amount_past_due == 2 * 3150
    history = submission.history.latest()
    assert history.history_user == actor and history.history_change_reason == "Metro 2 file generated"


def test_a_second_generation_for_the_same_month_returns_the_first(portfolio, actor):
    creditor, _debts = portfolio
    first = generate(creditor, actor=actor)
    again = generate(creditor, actor=actor)
    assert again.pk == first.pk
    assert BureauSubmission.objects.filter(creditor=creditor).count() == 1


def test_the_creditors_furnisher_profile_fills_the_header_and_identifiers(portfolio, actor):
    creditor, _debts = portfolio
    FurnisherProfile.objects.create(
        creditor=creditor,
        identification_number="1234567890",
        equifax_program_identifier="EQX",
        portfolio_type="O",
        account_type="48",
    )
    records = list(read_metro2(lines_of(generate(creditor, actor=actor))))
    assert records[0].fields["equifax_program_identifier"] == "EQX"
    assert {r.fields["identification_number"] for r in records if r.kind == "base"} == {"1234567890"}
    assert {r.fields["account_type"] for r in records if r.kind == "base"} == {"48"}


def test_sending_copies_the_file_to_the_outbox_once(portfolio, actor, settings):
    creditor, _debts = portfolio
    submission = generate(creditor, actor=actor)
    sent = send_submission(submission=submission, actor=actor, at=timezone.now())
    assert sent.status == BureauSubmission.Status.SENT
    outbox = Path(settings.METRO2_OUTBOX_DIR) / submission.file_name
    assert outbox.read_text().splitlines() == lines_of(submission)
    assert sent.transport_reference == str(outbox)
    assert sent.history.latest().history_change_reason == "Metro 2 file sent to the bureau"
    outbox.unlink()
    assert send_submission(submission=sent, actor=actor, at=timezone.now()).sent_at == sent.sent_at
    assert not outbox.exists()  # not sent twice


def test_a_failed_delivery_leaves_the_file_generated(portfolio, actor, tmp_path):
    creditor, _debts = portfolio
    submission = generate(creditor, actor=actor)
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    with pytest.raises(TransportError):
        send_submission(
            submission=submission, actor=actor, at=timezone.now(), transport=LocalDirectoryTransport(blocker)
        )
    submission.refresh_from_db()
    assert submission.status == BureauSubmission.Status.GENERATED


def test_the_bureaus_rejection_is_recorded_with_its_error_lines(portfolio, actor):
    creditor, _debts = portfolio
    submission = send_submission(submission=generate(creditor, actor=actor), actor=actor, at=timezone.now())
    with pytest.raises(Exception, match="error lines"):
        record_bureau_response(
            submission=submission, accepted=False, actor=actor, at=timezone.now(), reason="r"
        )
    rejected = record_bureau_response(
        submission=submission,
        accepted=False,
        error_lines="line 2 field 17A invalid",
        actor=actor,
        at=timezone.now(),
        reason="bureau rejected the file",
    )
    assert rejected.status == BureauSubmission.Status.REJECTED
    assert rejected.error_lines == "line 2 field 17A invalid"
    assert rejected.history.latest().history_change_reason == "bureau rejected the file"
    with pytest.raises(Conflict):
        record_bureau_response(
            submission=rejected, accepted=True, actor=actor, at=timezone.now(), reason="again"
        )


def test_acceptance_needs_a_sent_file(portfolio, actor):
    creditor, _debts = portfolio
    submission = generate(creditor, actor=actor)
    with pytest.raises(Conflict):
        record_bureau_response(
            submission=submission, accepted=True, actor=actor, at=timezone.now(), reason="ok"
        )
    sent = send_submission(submission=submission, actor=actor, at=timezone.now())
    accepted = record_bureau_response(
        submission=sent, accepted=True, actor=actor, at=timezone.now(), reason="ok"
    )
    assert accepted.status == BureauSubmission.Status.ACCEPTED


def test_the_monthly_task_generates_and_sends_each_creditors_file_once(portfolio, settings):
    creditor, _debts = portfolio
    disabled = us_debt().creditor
    FurnisherProfile.objects.create(creditor=disabled, identification_number="X", enabled=False)
    furnish_month("2026-06")
    furnish_month("2026-06")
    submissions = BureauSubmission.objects.filter(period=PERIOD)
    assert [(s.creditor_id, s.status) for s in submissions] == [(creditor.pk, BureauSubmission.Status.SENT)]
    assert len(list(Path(settings.METRO2_OUTBOX_DIR).glob("METRO2_*"))) == 1


def test_beat_runs_the_monthly_task_on_the_2nd():
    task = PeriodicTask.objects.get(task="cases.bureau.tasks.furnish_month")
    assert task.enabled
    assert (task.crontab.day_of_month, task.crontab.hour, task.crontab.minute) == ("2", "3", "0")


def test_period_parsing():
    assert parse_period("2026-06") == date(2026, 6, 1)
    for bad in ("2026-13", "June", "2026-6-1"):
        with pytest.raises(Exception, match="YYYY-MM"):
            parse_period(bad)


def test_export_command_records_the_submission(portfolio, capsys):
    creditor, _debts = portfolio
    call_command("metro2_export", "--creditor", str(creditor.pk), "--period", "2026-06")
    assert "2 accounts" in capsys.readouterr().out
    assert BureauSubmission.objects.filter(creditor=creditor, period=PERIOD).count() == 1


def test_export_command_writes_a_file_without_recording(portfolio, tmp_path, capsys):
    creditor, _debts = portfolio
    out = tmp_path / "june.txt"
    call_command("metro2_export", "--creditor", str(creditor.pk), "--period", "2026-06", "--out", str(out))
    assert validate_metro2(out.read_text().splitlines()) == []
    assert "2 accounts" in capsys.readouterr().out
    assert not BureauSubmission.objects.exists()
    call_command("metro2_validate", str(out))


def test_export_command_refuses_a_bad_period_or_creditor(portfolio):
    creditor, _debts = portfolio
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("metro2_export", "--creditor", str(creditor.pk), "--period", "06/2026")
    with pytest.raises(CommandError, match="No creditor"):
        call_command("metro2_export", "--creditor", "999999", "--period", "2026-06")


def test_demo_seed_gives_each_creditor_a_profile_and_last_months_file(portfolio):
    from cases.bureau.demo import seed

    creditor, _debts = portfolio
    (submission,) = seed(business_date=date(2026, 7, 5))
    assert submission.creditor == creditor and submission.period == PERIOD
    assert FurnisherProfile.objects.get(creditor=creditor).identification_number.startswith(
        creditor.short_code
    )
    assert validate_metro2(lines_of(submission)) == []
    assert seed(business_date=date(2026, 7, 5))[0].pk == submission.pk

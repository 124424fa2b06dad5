"""``manage.py close_of_business`` (DESIGN.md: management commands)."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from backoffice.celery import app
from cases.models import LedgerEntry
from tests.factories import make_debt

pytestmark = pytest.mark.django_db

DEFAULT_DEBT_ON_03_15 = "penalty 26.50, fees 0.00, interest 100.00, charged off 0."


def close(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("close_of_business", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def eager_celery():
    """Run --via-workers in-process even where a broker is configured (CI)."""
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = eager


def test_command_closes_the_date_and_prints_the_summary():
    debt = make_debt()

    out, err = close("--date", "2026-03-15")

    debt.refresh_from_db()
    assert debt.closed_through == date(2026, 3, 15)
    assert debt.days_past_due == 43
    entries = LedgerEntry.objects.filter(source="close_of_business").count()
    assert f"Close of business 2026-03-15: debts 1, ledger entries {entries}, " in out
    assert DEFAULT_DEBT_ON_03_15 in out
    assert "chunk" in err  # the progress bar


def test_command_shows_no_progress_bar_at_verbosity_zero():
    make_debt()

    _, err = close("--date", "2026-03-15", "--verbosity", "0")

    assert err == ""


def test_second_run_for_the_same_date_writes_nothing():
    make_debt()
    close("--date", "2026-03-15")
    entries = LedgerEntry.objects.count()

    out, _ = close("--date", "2026-03-15")

    assert LedgerEntry.objects.count() == entries
    assert "debts 0, ledger entries 0, penalty 0.00, fees 0.00, interest 0.00, charged off 0." in out


def test_small_chunks_give_the_same_summary_as_one_chunk():
    for _ in range(3):
        make_debt()

    out, err = close("--date", "2026-03-15", "--chunk-size", "1")

    assert "debts 3, " in out
    assert "penalty 79.50, fees 0.00, interest 300.00" in out
    assert "3/3" in err


@pytest.mark.parametrize("bad", ["2026-13-01", "15/03/2026", "yesterday", ""])
def test_bad_date_is_refused_with_the_expected_format(bad):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        close("--date", bad)


def test_date_is_required():
    with pytest.raises(CommandError, match="--date"):
        close()


def test_chunk_size_must_be_positive():
    with pytest.raises(CommandError, match="--chunk-size"):
        close("--date", "2026-03-15", "--chunk-size", "0")


def test_via_workers_dispatches_chunk_tasks_and_prints_their_summary(eager_celery):
    debts = [make_debt() for _ in range(3)]

    out, _ = close("--date", "2026-03-15", "--chunk-size", "2", "--via-workers")

    assert "Close of business 2026-03-15: debts 3, " in out
    assert "penalty 79.50, fees 0.00, interest 300.00" in out
    for debt in debts:
        debt.refresh_from_db()
        assert debt.closed_through == date(2026, 3, 15)
    again, _ = close("--date", "2026-03-15", "--via-workers")
    assert "debts 0, ledger entries 0" in again

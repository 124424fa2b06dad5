"""The circuit breaker shared by all workers (one ``BureauCircuit`` row) and
the shared rate window, against the fake bureau on 127.0.0.1."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.bureau_inquiry.models import BureauCircuit, Outcome
from cases.bureau_inquiry.services import refresh_bureau_report
from tests.bureau_inquiry.fake_bureau import REPORT_PATH, Reply
from tests.factories import CustomerFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
State = BureauCircuit.State


@pytest.fixture
def no_retries(bureau_client):
    bureau_client.config.max_retries = 0
    return bureau_client


def fetch(client, customer=None):
    customer = customer or CustomerFactory()
    return refresh_bureau_report(customer_id=customer.pk, actor=UserFactory(), reason="test", client=client)


def circuit() -> BureauCircuit:
    return BureauCircuit.objects.get(bureau="test-bureau")


def cool_down_passes():
    """Move the circuit's clock back past the cool-down (instead of waiting)."""
    past = timezone.now() - timedelta(seconds=61)
    BureauCircuit.objects.filter(bureau="test-bureau").update(opened_at=past)


def test_the_circuit_opens_after_n_failures_and_then_fails_fast(no_retries, fake_bureau):
    fake_bureau.defaults[REPORT_PATH] = Reply(status=500, body={})
    outcomes = [fetch(no_retries).outcome for _ in range(3)]
    assert outcomes == [Outcome.SERVER_ERROR] * 3
    assert (circuit().state, circuit().consecutive_failures) == (State.OPEN, 3)
    hits = fake_bureau.hits()
    attempt = fetch(no_retries)
    assert (attempt.outcome, attempt.tries) == (Outcome.CIRCUIT_OPEN, 0)
    assert fake_bureau.hits() == hits  # the bureau was not called


def test_a_fetch_stops_retrying_when_the_circuit_opens(bureau_client, fake_bureau):
    fake_bureau.defaults[REPORT_PATH] = Reply(status=500, body={})
    bureau_client.config.max_retries = 10
    attempt = fetch(bureau_client)
    assert (attempt.outcome, attempt.tries) == (Outcome.CIRCUIT_OPEN, 3)
    assert fake_bureau.hits() == 3


def test_a_successful_half_open_probe_closes_the_circuit(no_retries, fake_bureau):
    fake_bureau.defaults[REPORT_PATH] = Reply(status=500, body={})
    for _ in range(3):
        fetch(no_retries)
    assert fetch(no_retries).outcome == Outcome.CIRCUIT_OPEN
    fake_bureau.defaults[REPORT_PATH] = Reply()  # the bureau is back
    cool_down_passes()
    probe = fetch(no_retries)
    assert probe.outcome == Outcome.OK
    assert (circuit().state, circuit().consecutive_failures) == (State.CLOSED, 0)
    assert fetch(no_retries).outcome == Outcome.OK
    reasons = list(circuit().history.order_by("history_id").values_list("history_change_reason", flat=True))
    assert "3 consecutive failures: open" in reasons
    assert "cool-down over: half-open probe" in reasons
    assert "probe succeeded: closed" in reasons


def test_a_failed_probe_opens_the_circuit_for_another_cool_down(no_retries, fake_bureau):
    fake_bureau.defaults[REPORT_PATH] = Reply(status=500, body={})
    for _ in range(3):
        fetch(no_retries)
    cool_down_passes()
    assert fetch(no_retries).outcome == Outcome.SERVER_ERROR  # the probe
    assert circuit().state == State.OPEN
    assert circuit().opened_at > timezone.now() - timedelta(seconds=30)
    hits = fake_bureau.hits()
    assert fetch(no_retries).outcome == Outcome.CIRCUIT_OPEN
    assert fake_bureau.hits() == hits


def test_while_a_probe_is_out_other_callers_fail_fast(no_retries, fake_bureau):
    fake_bureau.defaults[REPORT_PATH] = Reply(status=500, body={})
    for _ in range(3):
        fetch(no_retries)
    BureauCircuit.objects.filter(bureau="test-bureau").update(
        state=State.HALF_OPEN, probe_started_at=timezone.now()
    )
    assert fetch(no_retries).outcome == Outcome.CIRCUIT_OPEN


def test_rate_limit_answers_and_malformed_replies_do_not_open_the_circuit(no_retries, fake_bureau):
    fake_bureau.defaults[REPORT_PATH] = Reply(status=429, body={})
    for _ in range(4):
        assert fetch(no_retries).outcome == Outcome.RATE_LIMITED
    assert circuit().state == State.CLOSED


def test_the_shared_rate_window_makes_callers_wait_for_the_next_minute(
    bureau_client, bureau_settings, sleeps
):
    """Two requests a minute: the second fetch waits for the next window
    (the recorded "sleep" moves the window back instead of sleeping)."""
    bureau_client.config.rate_limit_per_minute = 2

    def pass_time(seconds):
        sleeps.waits.append(seconds)
        row = circuit()
        BureauCircuit.objects.filter(pk=row.pk).update(
            window_started_at=row.window_started_at - timedelta(seconds=seconds)
        )

    bureau_client.sleep = pass_time
    assert fetch(bureau_client).outcome == Outcome.OK
    assert sleeps.waits == []
    assert fetch(bureau_client).outcome == Outcome.OK
    assert len(sleeps.waits) == 1 and 50 < sleeps.waits[0] <= 60


def test_a_rate_window_wait_longer_than_allowed_ends_as_rate_limited(bureau_client, bureau_settings, sleeps):
    bureau_client.config.rate_limit_per_minute = 2
    bureau_client.config.rate_wait_max = 5
    assert fetch(bureau_client).outcome == Outcome.OK
    attempt = fetch(bureau_client)
    assert (attempt.outcome, attempt.tries) == (Outcome.RATE_LIMITED, 0)
    assert sleeps.waits == []

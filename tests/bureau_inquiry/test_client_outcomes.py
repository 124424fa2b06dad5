"""The bureau client against a real HTTP server on 127.0.0.1: every way a
fetch can end is a recorded attempt with a clear outcome, and a snapshot is
written whole or not at all."""

import pytest

from cases.bureau_inquiry.models import BureauInquiryAttempt, BureauReport, Outcome
from cases.bureau_inquiry.services import refresh_bureau_report
from customers.models import ContactPoint, ThirdPartyContact
from tests.bureau_inquiry.fake_bureau import REPORT_PATH, SKIP_TRACE_PATH, Reply, good_report, good_trace
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    return CustomerFactory(national_id="110101199001011234", name="王小明")


@pytest.fixture
def actor():
    return UserFactory()


def fetch(customer, actor, client):
    return refresh_bureau_report(customer_id=customer.pk, actor=actor, reason="test", client=client)


def nothing_written(customer):
    return (
        not BureauReport.objects.filter(customer=customer).exists()
        and not ContactPoint.objects.filter(customer=customer, source="bureau").exists()
        and not ThirdPartyContact.objects.filter(customer=customer).exists()
    )


def test_a_normal_reply_stores_the_whole_snapshot(customer, actor, bureau_client, fake_bureau):
    fake_bureau.queue(REPORT_PATH, Reply(body=good_report("REQ-42", score=612)))
    attempt = fetch(customer, actor, bureau_client)
    assert (attempt.outcome, attempt.tries, attempt.http_status) == (Outcome.OK, 2, 200)
    report = attempt.report
    assert (report.customer, report.score, report.request_id, report.bureau) == (
        customer,
        612,
        "REQ-42",
        "test-bureau",
    )
    assert (report.open_tradelines, report.recent_delinquencies) == (1, 1)
    assert report.tradelines[0]["balance"] == "1200.50"
    assert report.skip_trace["employer"]["name"] == "Acme Trading Co."
    assert report.history.get().history_user == actor
    assert attempt.history.get().history_change_reason == "test"


def test_the_request_carries_credentials_subject_and_one_idempotency_key_per_request(
    customer, actor, bureau_client, fake_bureau
):
    fetch(customer, actor, bureau_client)
    report_request, trace_request = fake_bureau.requests
    assert report_request["headers"]["Authorization"] == "Bearer secret-key"
    assert report_request["headers"]["X-Client-Id"] == "ledgerline"
    assert report_request["json"]["subject"]["national_id"] == "110101199001011234"
    assert report_request["json"]["subject"]["reference"] == f"customer-{customer.pk}"
    assert report_request["headers"]["Idempotency-Key"] != trace_request["headers"]["Idempotency-Key"]


def test_a_slow_bureau_times_out_after_the_retries(customer, actor, bureau_client, fake_bureau, sleeps):
    fake_bureau.defaults[REPORT_PATH] = Reply(delay=1.0)
    attempt = fetch(customer, actor, bureau_client)
    assert (attempt.outcome, attempt.tries, attempt.report) == (Outcome.TIMEOUT, 3, None)
    assert fake_bureau.hits(REPORT_PATH) == 3
    assert fake_bureau.hits(SKIP_TRACE_PATH) == 0
    assert sleeps.waits == [0.5, 1.0]  # exponential backoff
    assert nothing_written(customer)


def test_server_errors_are_retried_with_the_same_idempotency_key(customer, actor, bureau_client, fake_bureau):
    fake_bureau.queue(REPORT_PATH, Reply(status=500, body={"error": "boom"}), Reply(status=503, body="down"))
    attempt = fetch(customer, actor, bureau_client)
    assert (attempt.outcome, attempt.tries) == (Outcome.OK, 4)  # 3 for the report, 1 for the trace
    keys = {r["headers"]["Idempotency-Key"] for r in fake_bureau.requests if r["path"] == REPORT_PATH}
    assert len(keys) == 1


def test_persistent_server_errors_end_as_server_error(customer, actor, bureau_client, fake_bureau, sleeps):
    fake_bureau.defaults[REPORT_PATH] = Reply(status=500, body={"error": "boom"})
    attempt = fetch(customer, actor, bureau_client)
    assert (attempt.outcome, attempt.http_status, attempt.tries) == (Outcome.SERVER_ERROR, 500, 3)
    assert sleeps.waits == [0.5, 1.0]
    assert nothing_written(customer)


def test_backoff_is_capped(customer, actor, bureau_client, fake_bureau, sleeps, bureau_settings):
    bureau_client.config.max_retries = 5
    bureau_client.config.backoff_max = 1.5
    bureau_settings.BUREAU_CIRCUIT_FAILURES = 10
    fake_bureau.defaults[REPORT_PATH] = Reply(status=502, body="bad gateway")
    fetch(customer, actor, bureau_client)
    assert sleeps.waits == [0.5, 1.0, 1.5, 1.5, 1.5]


def test_a_body_that_is_not_json_is_malformed(customer, actor, bureau_client, fake_bureau):
    fake_bureau.queue(REPORT_PATH, Reply(body='{"request_id": "R", "score": 6'))
    attempt = fetch(customer, actor, bureau_client)
    assert (attempt.outcome, attempt.tries) == (Outcome.MALFORMED, 1)
    assert "not JSON" in attempt.detail
    assert nothing_written(customer)


@pytest.mark.parametrize(
    ("path", "body", "detail"),
    [
        (REPORT_PATH, good_report(score=1200), "report.score: outside"),
        (REPORT_PATH, good_report(score=True), "report.score"),
        (REPORT_PATH, good_report(tradelines={"a": 1}), "report.tradelines: expected list"),
        (REPORT_PATH, {"score": 600, "tradelines": [], "delinquencies": []}, "report.request_id: missing"),
        (SKIP_TRACE_PATH, good_trace(phones=[{"type": "mobile"}]), "skip_trace.phones[0].number: missing"),
        (SKIP_TRACE_PATH, good_trace(employer="Acme"), "skip_trace.employer"),
        (SKIP_TRACE_PATH, ["not", "an", "object"], "skip_trace: expected a JSON object"),
    ],
)
def test_a_reply_of_the_wrong_shape_writes_nothing(
    customer, actor, bureau_client, fake_bureau, path, body, detail
):
    """The report may be fine and the skip trace not (or the other way): no
    snapshot, no contact point, no employer — never half a result."""
    fake_bureau.queue(path, Reply(body=body))
    attempt = fetch(customer, actor, bureau_client)
    assert attempt.outcome == Outcome.MALFORMED
    assert detail in attempt.detail
    assert nothing_written(customer)


def test_a_429_waits_what_retry_after_says_then_succeeds(customer, actor, bureau_client, fake_bureau, sleeps):
    fake_bureau.queue(
        REPORT_PATH, Reply(status=429, body={"error": "slow down"}, headers={"Retry-After": "2"})
    )
    attempt = fetch(customer, actor, bureau_client)
    assert attempt.outcome == Outcome.OK
    assert sleeps.waits == [2.0]


def test_a_429_asking_too_long_a_wait_ends_as_rate_limited(
    customer, actor, bureau_client, fake_bureau, sleeps
):
    fake_bureau.queue(REPORT_PATH, Reply(status=429, body={}, headers={"Retry-After": "3600"}))
    attempt = fetch(customer, actor, bureau_client)
    assert (attempt.outcome, attempt.http_status, attempt.tries) == (Outcome.RATE_LIMITED, 429, 1)
    assert sleeps.waits == []
    assert nothing_written(customer)


def test_a_429_without_retry_after_ends_as_rate_limited(customer, actor, bureau_client, fake_bureau):
    fake_bureau.defaults[REPORT_PATH] = Reply(status=429, body={})
    attempt = fetch(customer, actor, bureau_client)
    assert (attempt.outcome, attempt.tries) == (Outcome.RATE_LIMITED, 1)


def test_a_refusal_is_a_client_error_and_not_retried(customer, actor, bureau_client, fake_bureau):
    fake_bureau.queue(REPORT_PATH, Reply(status=401, body={"error": "bad key"}))
    attempt = fetch(customer, actor, bureau_client)
    assert (attempt.outcome, attempt.http_status, attempt.tries) == (Outcome.CLIENT_ERROR, 401, 1)
    assert "bad key" in attempt.detail


def test_nobody_listening_is_a_connection_error(customer, actor, bureau_client, fake_bureau):
    fake_bureau.stop()
    attempt = fetch(customer, actor, bureau_client)
    assert (attempt.outcome, attempt.tries) == (Outcome.CONNECTION_ERROR, 3)


def test_without_a_base_url_nothing_is_called(customer, actor, bureau_settings, fake_bureau):
    bureau_settings.BUREAU_BASE_URL = ""
    attempt = refresh_bureau_report(customer_id=customer.pk, actor=actor, reason="test")
    assert (attempt.outcome, attempt.tries) == (Outcome.NOT_CONFIGURED, 0)
    assert fake_bureau.hits() == 0


def test_a_duplicate_request_id_is_recorded_not_raised(customer, actor, bureau_client, fake_bureau):
    fake_bureau.queue(REPORT_PATH, Reply(body=good_report("SAME")), Reply(body=good_report("SAME")))
    assert fetch(customer, actor, bureau_client).outcome == Outcome.OK
    second = fetch(customer, actor, bureau_client)
    assert second.outcome == Outcome.MALFORMED
    assert "not stored" in second.detail
    assert BureauReport.objects.filter(customer=customer).count() == 1
    assert BureauInquiryAttempt.objects.filter(customer=customer).count() == 2


class _BrokenSession:
    def post(self, *args, **kwargs):
        raise RuntimeError("a bug of ours")


def test_a_bug_while_fetching_is_recorded_as_error_not_raised(customer, actor, bureau_settings):
    from cases.bureau_inquiry.client import BureauClient, BureauConfig

    client = BureauClient(BureauConfig(), session=_BrokenSession())
    attempt = fetch(customer, actor, client)
    assert (attempt.outcome, attempt.detail) == (Outcome.ERROR, "RuntimeError: a bug of ours")
    assert nothing_written(customer)

"""Inputs that used to be guessed at or end in a 500 (issue #14).

- amounts are plain decimals with at most two places, in the API (strings
  and JSON numbers) and in placement and statement files;
- malformed JSON, ``NaN`` and JSON nested deeper than ``API_JSON_MAX_DEPTH``
  answer 400 (deep nesting was a ``RecursionError``: 500);
- a NUL byte in a path segment or a query filter is a 4xx, never a 500 (on
  PostgreSQL it reached the database and failed there).
"""

from datetime import date

import pytest
from django.urls import reverse

from cases.models import CollectionPolicy, LedgerEntry, Payment
from cases.placements.models import PlacementLayout, PlacementReportLine
from cases.placements.services import submit_placement_file
from cases.statements.services import import_statement
from tests.api.conftest import CLERK_PERMISSIONS, client_for, grant
from tests.factories import PolicyFactory, ProductFactory, UserFactory, make_debt
from tests.placements.conftest import row, write_csv
from tests.statements.factories import StatementSourceFactory, line
from tests.statements.factories import write_csv as write_statement

pytestmark = pytest.mark.django_db

PAYMENTS = "/api/v1/payments/"
BAD_AMOUNTS = [
    "1e3",
    "1E3",
    " 1000",
    "1000 ",
    "1,000",
    "NaN",
    "Infinity",
    "-Infinity",
    "1.001",
    "0x10",
    "１000",
]


@pytest.fixture
def clerk_api(db):
    return client_for(grant(UserFactory(username="clerk"), *CLERK_PERMISSIONS))


def payment_body(debt, **overrides) -> dict:
    return {
        "debt": debt.pk,
        "amount": "500.00",
        "currency": "CNY",
        "received_on": "2026-01-15",
        "channel": "alipay",
        "reference": "ALI-0001",
        **overrides,
    }


def nothing_posted() -> tuple:
    return Payment.objects.count(), LedgerEntry.objects.count()


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_an_amount_that_is_not_a_plain_decimal_answers_400_naming_the_field(clerk_api, amount):
    debt = make_debt()
    before = nothing_posted()

    response = clerk_api.post(PAYMENTS, payment_body(debt, amount=amount), format="json")

    assert response.status_code == 400, response.json()
    assert "amount" in response.json()
    assert nothing_posted() == before


@pytest.mark.parametrize("number", ["1e3", "1E3", "1000e0", "1.001"])
def test_an_amount_sent_as_a_json_number_in_exponent_form_answers_400(clerk_api, number):
    debt = make_debt()
    raw = f'{{"debt": {debt.pk}, "amount": {number}, "currency": "CNY", "received_on": "2026-01-15", '
    raw += '"channel": "alipay", "reference": "ALI-0001"}'

    response = clerk_api.post(PAYMENTS, raw, content_type="application/json")

    assert response.status_code == 400, response.json()
    assert "amount" in response.json()


@pytest.mark.parametrize("amount", ["500.00", "500.5", "500", 500, 500.5])
def test_plain_amounts_as_strings_or_json_numbers_are_accepted(clerk_api, amount):
    response = clerk_api.post(PAYMENTS, payment_body(make_debt(), amount=amount), format="json")

    assert response.status_code == 201, response.json()


def test_a_rate_on_a_model_serializer_refuses_the_exponent_form_too(api):
    policy = PolicyFactory()

    response = api.patch(f"/api/v1/policies/{policy.pk}/", {"penalty_daily_rate": "5e-4"}, format="json")

    assert response.status_code == 400 and "penalty_daily_rate" in response.json()
    assert CollectionPolicy.objects.get(pk=policy.pk).penalty_daily_rate == policy.penalty_daily_rate


def test_deeply_nested_json_to_payments_answers_400_not_500(clerk_api):
    before = nothing_posted()
    deep = '{"debt": ' + "[" * 100_000 + "]" * 100_000 + "}"

    response = clerk_api.post(PAYMENTS, deep, content_type="application/json")

    assert response.status_code == 400
    assert "nest deeper than 32" in response.json()["detail"]
    assert nothing_posted() == before


def test_nesting_within_the_limit_is_parsed_and_brackets_in_strings_do_not_count(clerk_api):
    debt = make_debt()
    body = payment_body(debt, reference="[[[[" * 40)
    body["note"] = [[[["fine"]]]]

    response = clerk_api.post(PAYMENTS, body, format="json")

    assert response.status_code in (201, 400)
    assert "nest deeper" not in str(response.json())


@pytest.mark.parametrize(
    "raw", ['{"amount": ', '{"amount": NaN}', '{"amount": Infinity}', "\xff\xfe", '{"a": 1}}']
)
def test_malformed_json_answers_400(clerk_api, raw):
    response = clerk_api.post(PAYMENTS, raw.encode("latin-1"), content_type="application/json")

    assert response.status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/legal/calendar/abc%00def.ics",
        "/legal/calendar/%00.ics",
        "/legal/calendar/abc%2F..%2Fdef.ics",
        "/api/v1/cases/?customer=%00",
        "/api/v1/debts/?bucket=%00",
        "/api/v1/customers/1%00/",
        "/api/v1/customers/?kind=%00",
        "/api/v1/payments/?debt=%00",
        "/api/v1/placements/?creditor=%00",
        "/api/v1/statements/?source=%00",
        "/api/v1/legal/deadlines/?matter=%00",
        "/api/v1/contacts/?case=%00",
    ],
)
def test_a_nul_byte_in_a_path_or_a_filter_answers_4xx(api, path):
    response = api.get(path)

    assert 400 <= response.status_code < 500, (path, response.status_code)


@pytest.mark.parametrize(
    "name",
    [
        "admin:statements_statementsource_sample",
        "admin:statements_statementfile_report",
        "admin:placements_placementfile_report",
        "admin:placements_placementlayout_sample",
        "admin:agencies_agency_commission",
    ],
)
def test_a_malformed_id_in_an_admin_download_answers_404(client, admin_user, name):
    client.force_login(admin_user)
    url = reverse(name, args=["1"]).replace("/1/", "/abc%00/")

    assert client.get(url).status_code == 404


@pytest.mark.parametrize("amount", ["1e3", "1E3", "1,000", "NaN", "Infinity", "1.001", "1 000"])
def test_a_statement_line_with_a_bad_amount_is_rejected_with_line_column_and_reason(tmp_path, amount):
    debt = make_debt(account_number="GOOD-1")
    source = StatementSourceFactory()
    path = write_statement(
        tmp_path / "s.csv", [line("T1", account="GOOD-1"), line("T2", amount=amount, account="GOOD-1")]
    )

    statement = import_statement(path=path, source=source, actor=None, business_date=date(2026, 3, 20)).file

    bad = statement.lines.get(line_number=3)
    assert (bad.status, bad.column) == ("rejected", "amount")
    assert amount.strip() in bad.reason
    assert statement.lines.get(line_number=2).status == "posted"
    assert Payment.objects.filter(debt=debt).count() == 1


@pytest.mark.parametrize("amount", ["1e3", "NaN", "Infinity", "1,000", "1.001"])
def test_a_placement_row_with_a_bad_amount_is_rejected_with_line_column_and_reason(tmp_path, amount):
    creditor = ProductFactory(name="Cash loan").creditor
    PlacementLayout.objects.create(creditor=creditor)
    schedule = f"2026-01-31:{amount}:0.00"
    path = write_csv(tmp_path / "p.csv", [row(1), row(2, schedule=schedule, total="")])

    placement_file = submit_placement_file(
        creditor=creditor,
        path=path,
        original_name="p.csv",
        mode="valid_rows",
        actor=None,
        business_date=date(2026, 3, 1),
        background=False,
    ).placement_file

    assert (placement_file.loaded, placement_file.rejected) == (1, 1)
    report = PlacementReportLine.objects.get(placement_file=placement_file)
    assert (report.line, report.column) == (3, "schedule")
    assert amount in report.reason


def test_a_calendar_token_with_a_nul_byte_never_reaches_the_database(client, django_assert_max_num_queries):
    # SQLite would accept the NUL and answer 404 anyway; PostgreSQL refuses it
    # with an error (500). The URL pattern keeps it out of any query.
    with django_assert_max_num_queries(0):
        response = client.get("/legal/calendar/abc%00def.ics")

    assert response.status_code == 404

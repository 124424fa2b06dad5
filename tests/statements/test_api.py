"""``POST/GET /api/v1/statements/`` per role (the matrix covers every persona
on the world; these check the import itself)."""

import pytest
from rest_framework.test import APIClient

from cases.models import Payment
from cases.statements.models import StatementFile, StatementLine
from tests.factories import make_debt
from tests.statements.factories import StatementSourceFactory, line, write_csv

pytest_plugins = ["tests.personas"]
pytestmark = pytest.mark.django_db

URL = "/api/v1/statements/"


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def post_file(client, path, source):
    with open(path, "rb") as handle:
        return client.post(URL, {"file": handle, "source": source.pk, "business_date": "2026-03-20"})


def test_a_supervisor_imports_a_statement_and_the_same_file_again_answers_the_first(tmp_path, personas):
    make_debt(account_number="API-1")
    source = StatementSourceFactory()
    path = write_csv(tmp_path / "s.csv", [line("P1", "2026-01-15", account="API-1"), line("P2", amount="x")])
    client = client_for(personas["supervisor"])

    first = post_file(client, path, source)
    again = post_file(client, path, source)

    assert first.status_code == 201
    body = first.json()
    assert (body["line_count"], body["posted_count"], body["rejected_count"]) == (2, 1, 1)
    assert body["posted_amount"] == "100.00" and body["source"] == source.code
    assert body["lines"] == [
        {
            "line_number": 3,
            "transaction_id": "P2",
            "received_on": "2026-03-16",
            "amount": None,
            "currency": "CNY",
            "status": "rejected",
            "column": "amount",
            "reason": "'x' is not an amount.",
        }
    ]
    assert (again.status_code, again.json()["id"]) == (200, body["id"])
    assert Payment.objects.filter(reference=f"{source.code}:P1").count() == 1


def test_an_unreadable_file_answers_400_and_writes_nothing(tmp_path, personas):
    source = StatementSourceFactory()
    path = tmp_path / "bad.csv"
    path.write_text("txn_id,date\nT1,2026-01-15\n")

    response = post_file(client_for(personas["administrator"]), path, source)

    assert response.status_code == 400
    assert "The header lacks required column(s)" in str(response.json())
    assert not StatementFile.objects.exists() and not StatementLine.objects.exists()


@pytest.mark.parametrize("name", ["collector", "team_lead", "legal", "compliance", "agency", "outsider"])
def test_other_roles_cannot_import(tmp_path, personas, name):
    make_debt(account_number="API-2")
    source = StatementSourceFactory()
    path = write_csv(tmp_path / "s.csv", [line("P1", "2026-01-15", account="API-2")])

    response = post_file(client_for(personas[name]), path, source)

    assert response.status_code == 403
    assert (
        not StatementFile.objects.exists() and not Payment.objects.filter(reference__contains=":P1").exists()
    )

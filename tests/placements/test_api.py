"""``POST /api/v1/placements/`` (multipart) and reading an import (DESIGN.md, Contracts)."""

import csv
import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from rest_framework.test import APIClient

from backoffice import roles
from cases.models import Debt
from cases.placements.models import PlacementFile
from cases.placements.tasks import process_placement_file_task
from tests.factories import UserFactory
from tests.placements.conftest import row
from tests.placements.test_bad_input import every_table

pytestmark = pytest.mark.django_db

URL = "/api/v1/placements/"


@pytest.fixture
def role_user(db):
    call_command("setup_roles", verbosity=0)

    def make(role):
        user = UserFactory(username=f"api-{role.lower().replace(' ', '-')}")
        user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def supervisor_api(role_user):
    client = APIClient()
    client.force_authenticate(role_user(roles.SUPERVISOR))
    return client


def upload(client, creditor, path, **fields):
    with open(path, "rb") as handle:
        return client.post(URL, {"file": handle, "creditor": creditor.pk, **fields}, format="multipart")


def test_uploading_a_file_answers_201_with_status_counts_and_report(supervisor_api, creditor, csv_file):
    path = csv_file([row(1), row(2, opened_on="31/02/2026"), row(3)])

    response = upload(supervisor_api, creditor, path, mode="valid_rows")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "done"
    assert body["mode"] == "valid_rows" and body["dry_run"] is False
    assert (body["rows"], body["loaded"], body["rejected"], body["duplicates"], body["adjusted"]) == (
        3,
        2,
        1,
        0,
        0,
    )
    assert body["progress"] == {"processed": 3, "total": 3, "percent": 100.0}
    assert body["report_lines"] == 1
    assert body["report"][0]["line"] == 3
    assert body["report"][0]["column"] == "opened_on"
    assert body["report"][0]["account_number"] == "PL-000002"
    assert "Bad date" in body["report"][0]["reason"]
    assert Debt.objects.count() == 2


def test_the_same_file_again_answers_200_with_the_first_import(supervisor_api, creditor, csv_file):
    path = csv_file([row(1)])
    first = upload(supervisor_api, creditor, path).json()

    again = upload(supervisor_api, creditor, path)

    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert Debt.objects.count() == 1


def test_a_dry_run_answers_the_report_and_loads_nothing(supervisor_api, creditor, csv_file):
    response = upload(supervisor_api, creditor, csv_file([row(1)]), dry_run="true")

    assert response.status_code == 201
    assert response.json()["dry_run"] is True and response.json()["status"] == "done"
    assert not Debt.objects.exists()


def test_an_unreadable_file_answers_400_and_writes_nothing(supervisor_api, creditor, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    before = every_table()

    response = upload(supervisor_api, creditor, empty)

    assert response.status_code == 400
    assert "empty" in str(response.json()).lower()
    assert every_table() == before


def test_the_report_downloads_as_csv(supervisor_api, creditor, csv_file):
    body = upload(supervisor_api, creditor, csv_file([row(1, phone="0"), row(2)])).json()

    response = supervisor_api.get(f"{URL}{body['id']}/report/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["line", "column", "account_number", "outcome", "reason"]
    assert rows[1][:4] == ["2", "phone", "PL-000001", "rejected"]


@pytest.mark.usefixtures("workers_idle")
def test_every_file_is_queued_for_a_worker_and_answers_202(
    supervisor_api, creditor, csv_file, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = upload(supervisor_api, creditor, csv_file([row(1), row(2)]))

    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    assert len(callbacks) == 1 and not Debt.objects.exists()
    # What the worker runs, twice (a retry changes nothing).
    process_placement_file_task(response.json()["id"])
    process_placement_file_task(response.json()["id"])
    detail = supervisor_api.get(f"{URL}{response.json()['id']}/").json()
    assert (detail["status"], detail["loaded"]) == ("done", 2)
    assert Debt.objects.count() == 2


@pytest.mark.parametrize(
    "role", [roles.COLLECTOR, roles.TEAM_LEAD, roles.LEGAL, roles.COMPLIANCE, roles.AGENCY]
)
def test_roles_that_may_not_upload_are_refused_and_nothing_is_written(role_user, creditor, csv_file, role):
    client = APIClient()
    client.force_authenticate(role_user(role))
    path = csv_file([row(1)])
    before = every_table()

    response = upload(client, creditor, path)

    assert response.status_code == 403
    assert every_table() == before


def test_an_administrator_may_upload(role_user, creditor, csv_file):
    client = APIClient()
    client.force_authenticate(role_user(roles.ADMINISTRATOR))

    assert upload(client, creditor, csv_file([row(1)])).status_code == 201


def test_a_collector_sees_no_placement_file(role_user, creditor, csv_file, supervisor_api):
    body = upload(supervisor_api, creditor, csv_file([row(1)])).json()
    client = APIClient()
    client.force_authenticate(role_user(roles.COLLECTOR))

    assert client.get(URL).json()["results"] == []
    assert client.get(f"{URL}{body['id']}/").status_code == 404
    assert client.get(f"{URL}{body['id']}/report/").status_code == 404


def test_the_list_is_a_bounded_number_of_queries(
    supervisor_api, creditor, csv_file, django_assert_max_num_queries
):
    for n in range(1, 6):
        upload(supervisor_api, creditor, csv_file([row(n)]))
    with django_assert_max_num_queries(6):
        response = supervisor_api.get(URL)
    assert response.json()["count"] == 5
    assert PlacementFile.objects.count() == 5

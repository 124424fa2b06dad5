"""The admin screens: upload (add view), the file's page with counts and
report, the report CSV, and the layout's sample file."""

import csv
import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from backoffice import roles
from cases.models import Debt
from cases.placements.models import PlacementFile, PlacementLayout
from cases.placements.services import submit_placement_file
from tests.factories import UserFactory
from tests.placements.conftest import row
from tests.placements.test_bad_input import every_table

pytestmark = pytest.mark.django_db

ADD = "admin:placements_placementfile_add"


@pytest.fixture
def staff(db):
    call_command("setup_roles", verbosity=0)

    def make(role):
        user = UserFactory(username=f"admin-{role.lower().replace(' ', '-')}")
        user.groups.add(Group.objects.get(name=role))
        return user

    return make


def post_upload(client, creditor, path, **fields):
    with open(path, "rb") as handle:
        return client.post(
            reverse(ADD),
            {"creditor": creditor.pk, "file": handle, "mode": "all_or_nothing", **fields},
        )


def test_a_supervisor_uploads_a_file_and_lands_on_its_page(client, staff, creditor, csv_file):
    client.force_login(staff(roles.SUPERVISOR))

    response = post_upload(client, creditor, csv_file([row(1), row(2)]))

    placement_file = PlacementFile.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("admin:placements_placementfile_change", args=[placement_file.pk])
    assert (placement_file.status, placement_file.loaded) == ("done", 2)
    assert placement_file.uploaded_by.username == "admin-supervisor"
    page = client.get(response.url)
    assert page.status_code == 200
    assert "2 / 2 (100.0%)" in page.content.decode()


def test_the_upload_form_offers_mode_and_dry_run(client, staff):
    client.force_login(staff(roles.ADMINISTRATOR))

    page = client.get(reverse(ADD)).content.decode()

    assert 'name="mode"' in page and 'name="dry_run"' in page and 'type="file"' in page


def test_a_dry_run_from_admin_loads_nothing(client, staff, creditor, csv_file):
    client.force_login(staff(roles.SUPERVISOR))

    post_upload(client, creditor, csv_file([row(1)]), dry_run="on")

    assert PlacementFile.objects.get().dry_run
    assert not Debt.objects.exists()


def test_a_rejected_row_shows_on_the_page_and_in_the_csv(client, staff, creditor, csv_file):
    client.force_login(staff(roles.SUPERVISOR))
    response = post_upload(client, creditor, csv_file([row(1), row(2, product="Nope")]))

    page = client.get(response.url).content.decode()
    assert "Unknown product" in page
    placement_file = PlacementFile.objects.get()
    assert placement_file.status == "rejected" and not Debt.objects.exists()

    download = client.get(reverse("admin:placements_placementfile_report", args=[placement_file.pk]))
    text = b"".join(download.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][:4] == ["3", "product", "PL-000002", "rejected"]


def test_an_unreadable_file_shows_the_error_on_the_form_and_writes_nothing(client, staff, creditor, tmp_path):
    client.force_login(staff(roles.SUPERVISOR))
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    before = every_table()

    response = post_upload(client, creditor, empty)

    assert response.status_code == 200
    assert "The file is empty." in response.content.decode() or "empty" in response.content.decode()
    assert every_table() == before


@pytest.mark.parametrize(
    "role", [roles.COLLECTOR, roles.TEAM_LEAD, roles.LEGAL, roles.COMPLIANCE, roles.AGENCY]
)
def test_roles_that_may_not_upload_get_403_and_nothing_is_written(client, staff, creditor, csv_file, role):
    client.force_login(staff(role))
    path = csv_file([row(1)])
    before = every_table()

    response = post_upload(client, creditor, path)

    assert response.status_code == 403
    assert every_table() == before


def test_a_collector_cannot_read_a_files_report(client, staff, creditor, csv_file):
    placement_file = submit_placement_file(
        creditor=creditor,
        path=csv_file([row(1)]),
        original_name="a.csv",
        actor=None,
        business_date=creditor.created_at.date(),
        background=False,
    ).placement_file
    client.force_login(staff(roles.COLLECTOR))

    response = client.get(reverse("admin:placements_placementfile_report", args=[placement_file.pk]))

    assert response.status_code == 403


def test_the_layout_sample_file_uses_the_layouts_headers_and_formats(client, staff, creditor, csv_file):
    layout = PlacementLayout.objects.create(
        creditor=creditor, col_account_number="合同号", date_format="%d/%m/%Y", decimal_separator=","
    )
    client.force_login(staff(roles.ADMINISTRATOR))

    response = client.get(reverse("admin:placements_placementlayout_sample", args=[layout.pk]))

    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0]["合同号"] == "LN-0001"
    assert rows[0]["opened_on"] == "01/01/2026"
    assert rows[0]["product"] == "Cash loan"
    assert "1000,00" in rows[0]["schedule"]


def test_the_sample_file_imports_cleanly_in_its_own_layout(client, staff, creditor, tmp_path):
    layout = PlacementLayout.objects.create(creditor=creditor, date_format="%d.%m.%Y", decimal_separator=",")
    client.force_login(staff(roles.ADMINISTRATOR))
    sample = tmp_path / "sample.csv"
    sample.write_bytes(
        client.get(reverse("admin:placements_placementlayout_sample", args=[layout.pk])).content
    )

    placement_file = submit_placement_file(
        creditor=creditor,
        path=sample,
        original_name="sample.csv",
        actor=None,
        business_date=creditor.created_at.date(),
        background=False,
    ).placement_file

    assert placement_file.status == "done", list(placement_file.report_lines.values("column", "reason"))
    assert placement_file.loaded == 2


@pytest.mark.usefixtures("workers_idle")
def test_the_page_of_a_queued_file_reloads_itself_until_it_finishes(
    client, staff, creditor, csv_file, django_capture_on_commit_callbacks
):
    client.force_login(staff(roles.SUPERVISOR))
    with django_capture_on_commit_callbacks(execute=False):
        response = post_upload(client, creditor, csv_file([row(1)]))
    placement_file = PlacementFile.objects.get()
    assert placement_file.status == "queued"

    assert 'http-equiv="refresh"' in client.get(response.url).content.decode()

    from cases.placements.tasks import process_placement_file_task

    process_placement_file_task(placement_file.pk)
    assert 'http-equiv="refresh"' not in client.get(response.url).content.decode()

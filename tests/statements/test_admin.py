"""Statement screens: upload, reconciliation page, reports, the suspense
queue's match and return, per role including the denials."""

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from cases.models import Payment
from cases.statements.models import StatementFile, StatementLine
from cases.statements.services import import_statement
from tests.factories import make_debt
from tests.statements.conftest import BUSINESS_DATE
from tests.statements.factories import StatementSourceFactory, line, write_csv

pytest_plugins = ["tests.personas"]
pytestmark = pytest.mark.django_db

SEES = {"compliance", "supervisor", "administrator", "superuser"}
WORKS = {"supervisor", "administrator", "superuser"}
NOBODY_ELSE = ["collector", "collector2", "team_lead", "legal", "agency", "outsider"]


def fresh(user):
    return get_user_model().objects.get(pk=user.pk)


@pytest.fixture
def source(db):
    return StatementSourceFactory(name="ICBC", code="icbc")


@pytest.fixture
def statement(tmp_path, personas, source):
    make_debt(account_number="ADM-1")
    path = write_csv(
        tmp_path / "s.csv",
        [
            line("A1", "2026-01-15", "120.00", account="ADM-1"),
            line("A2", "2026-01-15", "30.00", account="NOPE"),
        ],
    )
    return import_statement(
        path=path, source=source, actor=personas["superuser"], business_date=BUSINESS_DATE
    ).file


def upload(client, tmp_path, source, rows, name="up.csv"):
    path = write_csv(tmp_path / name, rows)
    with open(path, "rb") as handle:
        return client.post(
            reverse("admin:statements_statementfile_add"),
            {"source": source.pk, "file": handle, "business_date": "2026-03-20"},
        )


@pytest.mark.parametrize("name", sorted(WORKS))
def test_supervision_uploads_a_statement_and_sees_its_reconciliation(
    client, tmp_path, personas, source, name
):
    make_debt(account_number="UP-1")
    client.force_login(personas[name])

    response = upload(
        client, tmp_path, source, [line("U1", "2026-01-15", account="UP-1"), line("U2", account="X")]
    )

    statement = StatementFile.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("admin:statements_statementfile_change", args=[statement.pk])
    assert (statement.posted_count, statement.suspense_count, statement.imported_by) == (1, 1, personas[name])
    page = client.get(response.url)
    assert page.status_code == 200
    assert "imported = posted + suspense + rejected" in page.text and "reconciles" in page.text


def test_a_refused_upload_shows_the_error_and_writes_nothing(client, tmp_path, personas, source):
    client.force_login(personas["supervisor"])
    bad = tmp_path / "bad.csv"
    bad.write_text("txn_id,date\nT1,2026-01-15\n")

    with open(bad, "rb") as handle:
        response = client.post(
            reverse("admin:statements_statementfile_add"),
            {"source": source.pk, "file": handle, "business_date": "2026-03-20"},
        )

    assert response.status_code == 200
    assert "The header lacks required column(s): amount, currency" in response.text
    assert not StatementFile.objects.exists() and not StatementLine.objects.exists()


@pytest.mark.parametrize("name", NOBODY_ELSE + ["compliance"])
def test_other_roles_cannot_upload(client, tmp_path, personas, source, name):
    client.force_login(personas[name])

    assert client.get(reverse("admin:statements_statementfile_add")).status_code == 403
    response = upload(client, tmp_path, source, [line("U1", account="X")])

    assert response.status_code == 403
    assert not StatementFile.objects.exists()


@pytest.mark.parametrize("name", sorted(SEES) + NOBODY_ELSE)
def test_file_page_report_and_queue_follow_the_role(client, personas, statement, name):
    client.force_login(personas[name])
    file_page = client.get(reverse("admin:statements_statementfile_change", args=[statement.pk]))
    report = client.get(reverse("admin:statements_statementfile_report", args=[statement.pk]))
    queue = client.get(reverse("admin:statements_suspenseline_changelist"))
    if name in SEES:
        assert (file_page.status_code, report.status_code, queue.status_code) == (200, 200, 200)
        rows = list(csv.reader(io.StringIO(report.content.decode())))
        assert [r[3] for r in rows[1:]] == ["posted", "suspense"]
        assert [r.transaction_id for r in queue.context["cl"].queryset] == ["A2"]
    else:
        assert queue.status_code == 403
        assert file_page.status_code in (302, 403, 404)
        assert report.status_code in (403, 404)


def test_the_sample_file_is_in_the_sources_layout(client, personas, source):
    client.force_login(personas["administrator"])

    response = client.get(reverse("admin:statements_statementsource_sample", args=[source.pk]))

    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == list(source.columns().values())
    assert len(rows) == 3


@pytest.mark.parametrize("name", NOBODY_ELSE)
def test_the_sample_file_is_not_for_other_roles(client, personas, source, name):
    client.force_login(personas[name])
    response = client.get(reverse("admin:statements_statementsource_sample", args=[source.pk]))
    assert response.status_code in (403, 404)


def test_a_supervisor_matches_a_line_from_the_queue(client, personas, statement):
    debt = make_debt()
    line_ = statement.lines.get(transaction_id="A2")
    client.force_login(personas["supervisor"])
    url = reverse("admin:statements_suspenseline_match", args=[line_.pk])
    assert client.get(url).status_code == 200

    response = client.post(
        url, {"debt": debt.pk, "reason": "payer's bank mistyped", "business_date": "2026-03-20"}
    )

    assert response.status_code == 302
    line_.refresh_from_db()
    assert (line_.status, line_.debt_id, line_.matched_by) == (
        "matched",
        debt.pk,
        fresh(personas["supervisor"]),
    )
    assert line_.payment.amount == line_.amount


@pytest.mark.parametrize("name", ["compliance", *NOBODY_ELSE])
def test_other_roles_cannot_match_and_nothing_is_posted(client, personas, statement, name):
    debt = make_debt()
    line_ = statement.lines.get(transaction_id="A2")
    client.force_login(personas[name])
    url = reverse("admin:statements_suspenseline_match", args=[line_.pk])

    response = client.post(url, {"debt": debt.pk, "reason": "mine", "business_date": "2026-03-20"})

    assert response.status_code in (403, 404)
    line_.refresh_from_db()
    assert line_.status == StatementLine.Status.SUSPENSE
    assert not Payment.objects.filter(debt=debt).exists()


def test_a_supervisor_returns_selected_lines_with_a_reason(client, personas, statement):
    line_ = statement.lines.get(transaction_id="A2")
    client.force_login(personas["supervisor"])
    changelist = reverse("admin:statements_suspenseline_changelist")

    ask = client.post(changelist, {"action": "return_selected", "_selected_action": [line_.pk]})
    done = client.post(
        changelist,
        {"action": "return_selected", "_selected_action": [line_.pk], "apply": "1", "reason": "refunded"},
    )

    assert ask.status_code == 200 and "Return lines" in ask.text
    assert done.status_code == 302
    line_.refresh_from_db()
    assert (line_.status, line_.match_reason) == ("rejected", "refunded")


def test_compliance_sees_the_queue_but_has_no_return_action(client, personas, statement):
    line_ = statement.lines.get(transaction_id="A2")
    client.force_login(personas["compliance"])
    changelist = reverse("admin:statements_suspenseline_changelist")

    client.post(
        changelist,
        {"action": "return_selected", "_selected_action": [line_.pk], "apply": "1", "reason": "x"},
    )

    line_.refresh_from_db()
    assert line_.status == StatementLine.Status.SUSPENSE


def test_the_queue_searches_by_name_id_and_reference(client, personas, statement):
    client.force_login(personas["supervisor"])
    changelist = reverse("admin:statements_suspenseline_changelist")
    assert client.get(changelist, {"q": "NOPE"}).context["cl"].queryset.count() == 1
    assert client.get(changelist, {"q": "nothing-like-it"}).context["cl"].queryset.count() == 0


def test_a_payers_national_id_is_found_only_whole_and_never_filtered_by_part(client, personas, statement):
    """The suspense queue is no oracle (issue #15): the mask's last four digits
    plus a guessed digit find nothing; the whole ID finds the line."""
    line_ = statement.lines.get(transaction_id="A2")
    StatementLine.objects.filter(pk=line_.pk).update(national_id="110101199001011234")
    client.force_login(personas["supervisor"])
    changelist = reverse("admin:statements_suspenseline_changelist")

    assert client.get(changelist, {"q": "41234"}).context["cl"].queryset.count() == 0
    assert client.get(changelist, {"q": "110101199001011234"}).context["cl"].queryset.count() == 1
    assert client.get(changelist, {"national_id__regex": "^1101"}).status_code == 400
    assert client.get(changelist, {"national_id__endswith": "1234"}).status_code == 400


@pytest.mark.parametrize(
    "screen",
    [
        "admin:statements_statementfile_changelist",
        "admin:statements_statementline_changelist",
        "admin:statements_suspenseline_changelist",
        "admin:statements_statementsource_changelist",
    ],
)
def test_lists_take_a_bounded_number_of_queries(
    client, personas, statement, screen, django_assert_max_num_queries
):
    client.force_login(personas["supervisor"])
    with django_assert_max_num_queries(20):
        assert client.get(reverse(screen)).status_code == 200


@pytest.mark.parametrize("screen", ["statementline", "suspenseline"])
def test_a_lines_page_and_history_open_for_supervision_and_mask_the_national_id(
    client, personas, statement, screen
):
    line_ = statement.lines.get(transaction_id="A2")
    StatementLine.objects.filter(pk=line_.pk).update(national_id="110101199001011234")
    client.force_login(personas["compliance"])

    page = client.get(reverse(f"admin:statements_{screen}_change", args=[line_.pk]))
    history = client.get(reverse(f"admin:statements_{screen}_history", args=[line_.pk]))

    assert page.status_code == 200
    if screen == "suspenseline":  # a proxy: its history is the statement line's
        assert history.url == reverse("admin:statements_statementline_history", args=[line_.pk])
        history = client.get(history.url)
    assert history.status_code == 200
    assert "**************1234" in page.text and "110101199001011234" not in page.text


@pytest.mark.usefixtures("workers_idle")
def test_an_upload_is_stored_queued_and_imported_by_the_celery_task(
    client, tmp_path, personas, source, django_capture_on_commit_callbacks
):
    make_debt(account_number="BIG-1")
    client.force_login(personas["supervisor"])

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = upload(client, tmp_path, source, [line("B1", "2026-01-15", account="BIG-1")])

    statement = StatementFile.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("admin:statements_statementfile_change", args=[statement.pk])
    assert (statement.status, statement.line_count, len(callbacks)) == ("queued", 0, 1)
    callbacks[0]()  # what the worker runs after commit
    statement.refresh_from_db()
    assert statement.status == "reconciled"
    assert (statement.posted_count, statement.imported_by) == (1, fresh(personas["supervisor"]))

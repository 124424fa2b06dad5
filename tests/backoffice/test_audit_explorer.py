"""Supervisors answer "who changed this, when, from what to what" for any
record: the audit trail across models, one record's story, the CSV export."""

import csv
import io
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from backoffice import roles
from backoffice.audit import record
from backoffice.selectors import decode_cursor, history_rows
from cases.models import CollectionCase, Debt, Team
from customers.models import Customer
from tests.factories import CustomerFactory, TeamFactory, UserFactory, make_debt

pytestmark = pytest.mark.django_db

FULL_ID = "110101199001011234"
NEW_ID = "110101199001015678"
TRAIL = "/admin/audit/"
CSV = "/admin/audit/csv/"


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def groups(db):
    call_command("setup_roles", stdout=io.StringIO())


def _member(role, username):
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def supervisor(groups):
    return _member(roles.SUPERVISOR, "sup")


@pytest.fixture
def editor(groups):
    return _member(roles.ADMINISTRATOR, "editor")


@pytest.fixture
def sup_client(client, supervisor):
    client.force_login(supervisor)
    return client


def _rename(obj, name, *, actor, reason):
    obj.name = name
    record(obj, actor=actor, reason=reason)
    obj.save()


def _rows(client, **params):
    response = client.get(TRAIL, params)
    assert response.status_code == 200
    return response.context["rows"]


def _changes(row):
    return {c.field: (c.old, c.new) for c in row.changes}


# --------------------------------------------------------------------------
# What a supervisor sees


def test_a_rename_shows_who_when_why_and_the_old_and_new_name(sup_client, editor):
    customer = CustomerFactory(name="Alice Wang")
    _rename(customer, "Alice Li", actor=editor, reason="Marriage certificate received")

    rows = _rows(sup_client)
    row = rows[0]
    assert (row.model_label, row.object_id, row.history_type) == ("customers.customer", customer.pk, "~")
    assert row.user_display == "editor"
    assert row.reason == "Marriage certificate received"
    assert _changes(row) == {"name": ("Alice Wang", "Alice Li")}
    page = sup_client.get(TRAIL).content.decode()
    assert "name</span>: Alice Wang → Alice Li" in page
    assert "Marriage certificate received" in page
    assert reverse("admin:customers_customer_change", args=[customer.pk]) in page


def test_trail_lists_changes_of_several_models_newest_first(sup_client, editor):
    debt = make_debt(actor=editor)
    case = debt.case
    case.stage = CollectionCase.Stage.SOFT
    record(case, actor=editor, reason="Escalated")
    case.save()

    rows = _rows(sup_client)
    labels = {r.model_label for r in rows}
    assert {"customers.customer", "cases.debt", "cases.collectioncase", "cases.instalment"} <= labels
    assert rows[0].model_label == "cases.collectioncase"
    assert _changes(rows[0])["stage"] == ("Reminder", "Soft")
    dates = [r.history_date for r in rows]
    assert dates == sorted(dates, reverse=True)


def test_foreign_keys_show_the_related_object_not_its_id(sup_client, editor):
    debt = make_debt(actor=editor)
    case = debt.case
    collector = UserFactory(username="collector-kim")
    case.assigned_to = collector
    record(case, actor=editor, reason="Assigned")
    case.save()

    row = _rows(sup_client, model="cases.collectioncase")[0]
    assert _changes(row)["assigned_to"] == ("—", "collector-kim")
    assert row.object_repr == f"Case {case.pk} · {case.customer.name}"


def test_team_membership_changes_are_diffed(sup_client, editor):
    team = TeamFactory(name="North")
    member = UserFactory(username="member-lu")
    team._history_user = editor
    team.members.add(member)

    rows = _rows(sup_client, model="cases.team", field="members")
    assert len(rows) == 1
    assert _changes(rows[0]) == {"members": ("—", "member-lu")}


# --------------------------------------------------------------------------
# Filters


@pytest.fixture
def story(groups, editor):
    """Changes by two people on two days across customers and cases."""
    other = _member(roles.SUPERVISOR, "other")
    with time_machine.travel(datetime(2026, 3, 1, 2, 0, tzinfo=UTC), tick=False):
        alice = CustomerFactory(name="Alice")
        debt = make_debt(customer=alice, actor=editor)
    with time_machine.travel(datetime(2026, 3, 5, 2, 0, tzinfo=UTC), tick=False):
        _rename(alice, "Alicia", actor=editor, reason="Typo fixed by phone")
        bob = CustomerFactory(name="Bob")
        _rename(bob, "Robert", actor=other, reason="Passport copy")
        case = debt.case
        case.stage = CollectionCase.Stage.HARD
        record(case, actor=other, reason="No contact for 30 days")
        case.save()
    return {"alice": alice, "bob": bob, "debt": debt, "other": other}


def test_filter_by_user(sup_client, story):
    rows = _rows(sup_client, user="other")
    assert rows
    assert {r.user_display for r in rows} == {"other"}
    assert {r.reason for r in rows} == {"Passport copy", "No contact for 30 days"}


def test_filter_by_model_and_object(sup_client, story):
    alice = story["alice"]
    rows = _rows(sup_client, model="customers.customer", object_id=alice.pk)
    assert [(r.history_type, r.object_id) for r in rows] == [("~", alice.pk), ("+", alice.pk)]


def test_filter_by_model_only(sup_client, story):
    rows = _rows(sup_client, model="cases.debt")
    assert rows
    assert {r.model_label for r in rows} == {"cases.debt"}


def test_filter_by_date_range(sup_client, story):
    rows = _rows(sup_client, date_from="2026-03-05", date_to="2026-03-05")
    assert rows
    assert {r.history_date.date() for r in rows} == {date(2026, 3, 5)}
    assert not _rows(sup_client, date_from="2026-03-02", date_to="2026-03-04")
    earlier = _rows(sup_client, date_to="2026-03-01")
    assert earlier
    assert all(r.history_date.date() == date(2026, 3, 1) for r in earlier)


def test_filter_by_changed_field(sup_client, story):
    rows = _rows(sup_client, field="name")
    assert {(r.model_label, r.object_id) for r in rows} == {
        ("customers.customer", story["alice"].pk),
        ("customers.customer", story["bob"].pk),
    }
    assert all("name" in _changes(r) for r in rows)
    stage_rows = _rows(sup_client, field="stage")
    assert [r.reason for r in stage_rows] == ["No contact for 30 days"]


def test_filter_by_reason(sup_client, story):
    rows = _rows(sup_client, reason="passport")
    assert [r.object_id for r in rows] == [story["bob"].pk]


def test_a_field_the_chosen_model_lacks_is_an_error(sup_client, story):
    response = sup_client.get(TRAIL, {"model": "cases.debt", "field": "national_id"})
    assert response.status_code == 200
    assert response.context["form"].errors["field"]
    assert response.context["rows"] == []


def test_an_unknown_user_is_an_error(sup_client, story):
    response = sup_client.get(TRAIL, {"user": "nobody"})
    assert response.context["form"].errors["user"]


# --------------------------------------------------------------------------
# Who may look


@pytest.mark.parametrize("role", [None, roles.COLLECTOR, roles.TEAM_LEAD, roles.LEGAL, roles.AGENCY])
@pytest.mark.parametrize("url", [TRAIL, CSV, "/admin/audit/customers/customer/1/"])
def test_other_staff_are_refused(client, groups, role, url):
    user = UserFactory(username="someone")
    if role:
        user.groups.add(Group.objects.get(name=role))
    CustomerFactory(pk=1, national_id=FULL_ID)
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 403
    assert FULL_ID not in response.content.decode()
    assert not response.has_header("Content-Disposition")


@pytest.mark.parametrize("role", [roles.SUPERVISOR, roles.COMPLIANCE, roles.ADMINISTRATOR, "superuser"])
def test_audit_roles_and_superusers_may_look(client, groups, role):
    if role == "superuser":
        user = UserFactory(username="root", is_superuser=True)
    else:
        user = _member(role, "viewer")
    client.force_login(user)
    assert client.get(TRAIL).status_code == 200
    assert client.get(CSV).status_code == 200


def test_anonymous_visitors_are_sent_to_the_login(client):
    response = client.get(TRAIL)
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_admin_index_links_the_trail_for_supervisors_only(client, supervisor, groups):
    client.force_login(supervisor)
    page = client.get(reverse("admin:index")).content.decode()
    assert "Supervision" in page
    assert f'href="{reverse("audit-trail")}"' in page

    client.force_login(_member(roles.COLLECTOR, "col"))
    page = client.get(reverse("admin:index")).content.decode()
    assert reverse("audit-trail") not in page


# --------------------------------------------------------------------------
# National IDs


@pytest.fixture
def id_change(editor):
    customer = CustomerFactory(name="Chen", national_id=FULL_ID)
    customer.national_id = NEW_ID
    record(customer, actor=editor, reason="ID card renewed")
    customer.save()
    return customer


def test_national_id_is_masked_in_diffs_without_the_permission(id_change):
    clerk = UserFactory(username="clerk")  # no customers.view_full_id
    page = history_rows(user=clerk, models=["customers.customer"], limit=10)
    row = page.rows[0]
    assert _changes(row) == {"national_id": ("**************1234", "**************5678")}
    assert FULL_ID not in repr(page.rows) and NEW_ID not in repr(page.rows)


def test_national_id_is_shown_in_full_to_supervisors(sup_client, id_change):
    row = _rows(sup_client, field="national_id")[0]
    assert _changes(row) == {"national_id": (FULL_ID, NEW_ID)}


def test_object_names_mask_a_national_id_they_contain(editor):
    clerk = UserFactory(username="clerk")
    CustomerFactory(name=f"Company {FULL_ID}", national_id=FULL_ID, kind=Customer.Kind.COMPANY)
    row = history_rows(user=clerk, models=["customers.customer"], limit=1).rows[0]
    assert row.object_repr == "Company **************1234"


def test_csv_masks_national_ids_without_the_permission(id_change, client):
    # The selector is what the export calls; an exporter without the
    # permission gets the masked values.
    clerk = UserFactory(username="clerk")
    from backoffice.views.audit import _csv_lines

    text = "".join(_csv_lines(clerk, {"models": None}))
    assert "**************5678" in text
    assert NEW_ID not in text and FULL_ID not in text


# --------------------------------------------------------------------------
# CSV export


def test_csv_holds_the_filtered_rows_under_a_header(sup_client, story):
    response = sup_client.get(CSV, {"user": "other"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["When", "User", "Model", "Object ID", "Object", "Action", "Reason", "Changes"]
    body = rows[1:]
    assert len(body) == 2
    assert {r[1] for r in body} == {"other"}
    by_reason = {r[6]: r for r in body}
    assert by_reason["Passport copy"][7] == "name: Bob → Robert"
    assert by_reason["No contact for 30 days"][2] == "cases.collectioncase"


def test_csv_quotes_cells_a_spreadsheet_would_run(sup_client, editor):
    customer = CustomerFactory(name="Plain")
    _rename(customer, "=HYPERLINK(1)", actor=editor, reason="-test")
    text = b"".join(sup_client.get(CSV, {"model": "customers.customer"}).streaming_content).decode()
    assert "'=HYPERLINK(1)" in text
    assert "'-test" in text


def test_csv_streams_past_one_batch(sup_client, editor, monkeypatch):
    from backoffice.views import audit as audit_views

    monkeypatch.setattr(audit_views, "CSV_BATCH", 3)
    customer = CustomerFactory(name="v0")
    for n in range(1, 8):
        _rename(customer, f"v{n}", actor=editor, reason=f"step {n}")
    response = sup_client.get(CSV, {"model": "customers.customer"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))[1:]
    assert [r[4] for r in rows] == [f"v{n}" for n in range(7, -1, -1)]


def test_invalid_filters_are_refused_for_csv(sup_client):
    assert sup_client.get(CSV, {"date_from": "not a date"}).status_code == 400


# --------------------------------------------------------------------------
# One record's story


def test_object_page_tells_the_whole_story_in_order(sup_client, editor, groups):
    other = _member(roles.SUPERVISOR, "other")
    customer = CustomerFactory(name="Zhang", national_id=FULL_ID)
    record(customer, actor=editor, reason="Placed")  # no-op save below keeps the creation
    _rename(customer, "Zhang Wei", actor=editor, reason="Full name from contract")
    customer.region = "Beijing"
    record(customer, actor=other, reason="Moved")
    customer.save()
    CustomerFactory(name="Someone else")

    url = reverse("audit-object", args=["customers", "customer", customer.pk])
    response = sup_client.get(url)
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [r.history_type for r in rows] == ["+", "~", "~"]
    assert [r.user_display for r in rows[1:]] == ["editor", "other"]
    assert _changes(rows[1]) == {"name": ("Zhang", "Zhang Wei")}
    assert _changes(rows[2]) == {"region": ("—", "Beijing")}
    assert {r.object_id for r in rows} == {customer.pk}
    page = response.content.decode()
    assert page.index("Full name from contract") < page.index("Moved")


def test_object_page_of_an_unknown_model_is_not_found(sup_client):
    assert sup_client.get("/admin/audit/auth/user/1/").status_code == 404


def test_object_page_keeps_the_story_of_a_deleted_record(sup_client, editor):
    team = TeamFactory(name="Gone")
    pk = team.pk
    team._history_user = editor
    team.delete()
    rows = sup_client.get(reverse("audit-object", args=["cases", "team", pk])).context["rows"]
    assert [r.history_type for r in rows] == ["+", "-"]
    assert rows[-1].admin_url is None


# --------------------------------------------------------------------------
# Paging and scale


def test_keyset_pages_cover_every_row_once_even_when_times_tie(sup_client, editor):
    for n in range(7):
        CustomerFactory(name=f"C{n}")
        TeamFactory(name=f"T{n}")
    moment = datetime(2026, 4, 1, tzinfo=UTC)
    # A set-based write stamps many rows of several tables with one time.
    Customer.history.model.objects.update(history_date=moment)
    Team.history.model.objects.update(history_date=moment)

    seen, params = [], {}
    for _ in range(10):
        response = sup_client.get(TRAIL, {**params})
        rows = response.context["rows"]
        seen += [(r.model_label, r.history_id) for r in rows[:]]
        older = response.context["pager"]["forward"]
        if not older:
            break
        params = dict(p.split("=", 1) for p in older.lstrip("?").split("&"))
        from urllib.parse import unquote_plus

        params = {k: unquote_plus(v) for k, v in params.items()}
    assert len(seen) == len(set(seen)) == 14


def test_selector_pages_forward_and_back_with_cursors(editor):
    customer = CustomerFactory(name="v0")
    for n in range(1, 10):
        _rename(customer, f"v{n}", actor=editor, reason=f"step {n}")
    first = history_rows(user=editor, limit=4)
    assert [r.object_repr for r in first] == ["v9", "v8", "v7", "v6"] and first.has_more
    second = history_rows(user=editor, limit=4, before=decode_cursor(first.rows[-1].cursor))
    assert [r.object_repr for r in second] == ["v5", "v4", "v3", "v2"]
    back = history_rows(user=editor, limit=4, after=decode_cursor(second.rows[0].cursor))
    assert [r.object_repr for r in back] == ["v9", "v8", "v7", "v6"] and not back.has_more
    by_offset = history_rows(user=editor, limit=4, offset=4)
    assert [r.object_repr for r in by_offset] == ["v5", "v4", "v3", "v2"]


def test_a_page_of_fifty_rows_across_models_runs_a_bounded_number_of_queries(
    sup_client, editor, django_assert_max_num_queries
):
    for n in range(4):
        debt = make_debt(actor=editor)
        case = debt.case
        case.assigned_to = editor
        case.stage = CollectionCase.Stage.SOFT
        record(case, actor=editor, reason=f"Work {n}")
        case.save()
        _rename(debt.customer, f"Renamed {n}", actor=editor, reason="Rename")
        team = TeamFactory()
        team._history_user = editor
        team.members.add(editor)
    assert Debt.history.count() >= 4

    with django_assert_max_num_queries(30):
        response = sup_client.get(TRAIL)
    rows = response.context["rows"]
    assert len(rows) == 50
    assert len({r.model_label for r in rows}) >= 4


def test_a_bad_cursor_is_ignored(sup_client, editor):
    CustomerFactory(name="Only")
    assert _rows(sup_client, before="garbage")


def test_field_filter_sees_a_change_from_or_to_empty(sup_client, editor):
    customer = CustomerFactory(name="Tz", time_zone=None)
    customer.time_zone = "Asia/Shanghai"
    record(customer, actor=editor, reason="Learned the time zone")
    customer.save()
    customer.time_zone = None
    record(customer, actor=editor, reason="Moved abroad")
    customer.save()
    _rename(customer, "Tz 2", actor=editor, reason="Rename only")

    rows = _rows(sup_client, field="time_zone")
    assert [r.reason for r in rows] == ["Moved abroad", "Learned the time zone"]
    assert _changes(rows[0])["time_zone"] == ("Asia/Shanghai", "—")


def test_selector_queries_do_not_grow_with_rows(editor, django_assert_max_num_queries):
    for n in range(5):
        debt = make_debt(actor=editor)
        _rename(debt.customer, f"Renamed {n}", actor=editor, reason="Rename")
    history_rows(user=editor, limit=10)  # warm the permission cache
    with django_assert_max_num_queries(20):
        page = history_rows(user=editor, limit=50)
    assert len(page) == 50

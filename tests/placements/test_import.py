"""Importing a placement file through the service: loading, rejections, modes,
idempotency and corrections (issue #9, "Placement files")."""

from datetime import date
from decimal import Decimal

import pytest

from cases.models import CollectionCase, Debt, Instalment, LedgerEntry
from cases.placements.models import PlacementFile, PlacementLayout
from cases.placements.services import submit_placement_file
from customers.models import ContactPoint, Customer
from tests.factories import ProductFactory, UserFactory, make_debt
from tests.placements.conftest import row

pytestmark = pytest.mark.django_db

BUSINESS_DATE = date(2026, 5, 1)


def submit(creditor, path, **kwargs):
    kwargs.setdefault("actor", UserFactory(username="uploader"))
    return submit_placement_file(
        creditor=creditor,
        path=path,
        original_name=path.name,
        business_date=BUSINESS_DATE,
        background=False,
        **kwargs,
    )


def business_rows() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in (Customer, ContactPoint, CollectionCase, Debt, Instalment, LedgerEntry)
    }


def test_a_valid_file_places_every_account_with_its_schedule_and_principal(creditor, csv_file):
    path = csv_file([row(1), row(2)])

    placement_file = submit(creditor, path).placement_file

    assert placement_file.status == PlacementFile.Status.DONE
    assert (placement_file.rows, placement_file.loaded, placement_file.rejected) == (2, 2, 0)
    debt = Debt.objects.get(account_number="PL-000001")
    assert debt.creditor == creditor
    assert debt.original_principal == Decimal("3000.00")
    assert debt.principal_balance == Decimal("3000.00")
    assert [i.due_on for i in debt.instalments.order_by("number")] == [
        date(2026, 1, 31),
        date(2026, 3, 2),
        date(2026, 4, 1),
    ]
    entries = LedgerEntry.objects.filter(debt=debt)
    assert sum(e.amount for e in entries) == Decimal("3000.00")
    assert {e.source for e in entries} == {f"placement-file:{placement_file.pk}"}
    assert {e.idempotency_key for e in entries} == {f"debt:{debt.pk}:principal:{n}" for n in (1, 2, 3)}
    assert debt.case.customer == debt.customer
    assert debt.case.opened_on == BUSINESS_DATE
    customer = debt.customer
    assert (customer.name, customer.national_id, customer.time_zone) == (
        "客户1",
        "110101199000000001",
        "Asia/Shanghai",
    )
    phones = ContactPoint.objects.filter(customer=customer, kind="phone")
    assert [(p.value, p.primary) for p in phones] == [("+8613800000001", True)]
    assert ContactPoint.objects.filter(customer=customer).count() == 3


def test_every_loaded_row_has_its_history_row_with_the_uploader_and_reason(creditor, csv_file):
    uploader = UserFactory(username="uploader")
    placement_file = submit(creditor, csv_file([row(1)]), actor=uploader).placement_file

    debt = Debt.objects.get()
    for model, pk in (
        (Debt, debt.pk),
        (Customer, debt.customer_id),
        (CollectionCase, debt.case_id),
        (Instalment, debt.instalments.first().pk),
        (LedgerEntry, debt.ledger_entries.first().pk),
    ):
        version = model.history.get(id=pk)
        assert version.history_user == uploader, model
        assert version.history_change_reason == f"placement file {placement_file.pk}"


def test_the_same_file_twice_loads_nothing_the_second_time(creditor, csv_file):
    path = csv_file([row(1), row(2)])
    first = submit(creditor, path)
    before = business_rows()

    second = submit(creditor, path)

    assert second.created is False
    assert second.placement_file.pk == first.placement_file.pk
    assert business_rows() == before
    assert PlacementFile.objects.count() == 1


def test_a_dry_run_reports_and_writes_nothing(creditor, csv_file):
    before = business_rows()
    placement_file = submit(creditor, csv_file([row(1), row(2, phone="12")]), dry_run=True).placement_file

    assert placement_file.dry_run
    assert placement_file.status == PlacementFile.Status.REJECTED
    assert (placement_file.rows, placement_file.rejected, placement_file.loaded) == (2, 1, 0)
    assert business_rows() == before
    assert placement_file.report_lines.get().line == 3


def test_a_dry_run_does_not_block_the_real_import_of_the_same_file(creditor, csv_file):
    path = csv_file([row(1)])
    submit(creditor, path, dry_run=True)

    real = submit(creditor, path)

    assert real.created and real.placement_file.status == PlacementFile.Status.DONE
    assert Debt.objects.count() == 1


BAD_ROWS = [
    ({"opened_on": "2026-13-01"}, "opened_on", "Bad date"),
    ({"product": "Gold card"}, "product", "Unknown product 'Gold card'"),
    ({"phone": "12345"}, "phone", "phone number"),
    ({"email": "not-an-email"}, "email", "Not a valid email"),
    ({"total": "3000.00"}, "total", "does not add up"),
    ({"schedule": "2026-01-31:abc:0"}, "schedule", "not an amount"),
    ({"schedule": "2025-12-01:1000.00:0"}, "schedule", "after the opening date"),
    ({"currency": "USD"}, "currency", "collects in CNY"),
    ({"time_zone": "Mars/Base"}, "time_zone", "Unknown time zone"),
    ({"account_number": ""}, "account_number", "account number is required"),
    ({"jurisdiction": "FR"}, "jurisdiction", "Jurisdiction must be"),
]


@pytest.mark.parametrize(("overrides", "column", "reason"), BAD_ROWS, ids=[c for _o, c, _r in BAD_ROWS])
def test_a_bad_row_is_reported_with_line_column_and_reason_and_nothing_loads(
    creditor, csv_file, overrides, column, reason
):
    rows = [row(1), row(2, **overrides), row(3)]
    header = list(rows[0]) + (["currency"] if "currency" in overrides else [])
    before = business_rows()

    placement_file = submit(creditor, csv_file(rows, header=header)).placement_file

    assert placement_file.status == PlacementFile.Status.REJECTED
    assert placement_file.loaded == 0 and placement_file.rejected == 1
    assert business_rows() == before
    line = placement_file.report_lines.get()
    assert (line.line, line.column, line.outcome) == (3, column, "rejected")
    assert reason in line.reason
    if overrides.get("account_number") != "":
        assert line.account_number == "PL-000002"


def test_valid_rows_mode_loads_the_valid_rows_and_reports_the_rest(creditor, csv_file):
    rows = [row(1), row(2, opened_on="yesterday"), row(3)]

    placement_file = submit(creditor, csv_file(rows), mode=PlacementFile.Mode.VALID_ROWS).placement_file

    assert placement_file.status == PlacementFile.Status.DONE
    assert (placement_file.rows, placement_file.loaded, placement_file.rejected) == (3, 2, 1)
    assert set(Debt.objects.values_list("account_number", flat=True)) == {"PL-000001", "PL-000003"}


def test_an_account_twice_in_one_file_rejects_both_lines(creditor, csv_file):
    rows = [row(1), row(2), row(3, account_number="PL-000001")]

    placement_file = submit(creditor, csv_file(rows), mode=PlacementFile.Mode.VALID_ROWS).placement_file

    assert placement_file.loaded == 1
    assert list(Debt.objects.values_list("account_number", flat=True)) == ["PL-000002"]
    lines = {(r.line, r.column) for r in placement_file.report_lines.all()}
    assert lines == {(2, "account_number"), (4, "account_number")}
    assert placement_file.rejected == 2


def test_a_row_for_an_account_already_placed_never_makes_a_second_debt(creditor, product, csv_file):
    make_debt(product=product, account_number="PL-000001", opened_on=date(2026, 1, 1))
    schedule = "2026-01-31:1000.00:50.00;2026-03-02:1000.00:50.00;2026-04-01:1000.00:50.00"

    placement_file = submit(creditor, csv_file([row(1, schedule=schedule), row(2)])).placement_file

    assert placement_file.status == PlacementFile.Status.DONE
    assert (placement_file.loaded, placement_file.duplicates, placement_file.rejected) == (1, 1, 0)
    assert Debt.objects.filter(account_number="PL-000001").count() == 1
    line = placement_file.report_lines.get()
    assert (line.line, line.outcome) == (2, "duplicate")
    assert "already placed" in line.reason


def test_a_different_principal_on_a_later_file_becomes_a_ledger_adjustment(creditor, product, csv_file):
    debt = make_debt(product=product, account_number="PL-000001", opened_on=date(2026, 1, 1))
    schedule = "2026-01-31:1000.00:50.00;2026-03-02:1100.00:50.00;2026-04-01:900.00:50.00"

    placement_file = submit(creditor, csv_file([row(1, schedule=schedule, total="3150.00")])).placement_file

    assert placement_file.status == PlacementFile.Status.DONE
    assert (placement_file.loaded, placement_file.adjusted) == (0, 1)
    adjustments = LedgerEntry.objects.filter(debt=debt, kind=LedgerEntry.Kind.ADJUSTMENT).order_by("id")
    assert [(a.instalment.number, a.amount) for a in adjustments] == [
        (2, Decimal("100.00")),
        (3, Decimal("-100.00")),
    ]
    assert {a.source for a in adjustments} == {f"placement-file:{placement_file.pk}"}
    assert {a.effective_on for a in adjustments} == {BUSINESS_DATE}
    debt.refresh_from_db()
    assert debt.principal_balance == Decimal("3000.00")
    # The schedule itself is never edited: the correction lives in the ledger.
    assert (
        list(debt.instalments.order_by("number").values_list("principal", flat=True))
        == [Decimal("1000.00")] * 3
    )
    assert debt.instalments.get(number=2).principal_balance == Decimal("1100.00")

    # A later file stating the corrected amounts again changes nothing.
    again = submit(creditor, csv_file([row(1, schedule=schedule, email="x@example.com")])).placement_file
    assert (again.adjusted, again.duplicates) == (0, 1)
    assert LedgerEntry.objects.filter(debt=debt, kind=LedgerEntry.Kind.ADJUSTMENT).count() == 2


def test_a_correction_that_changes_the_due_dates_is_rejected(creditor, product, csv_file):
    make_debt(product=product, account_number="PL-000001", opened_on=date(2026, 1, 1))
    schedule = "2026-02-28:3000.00:150.00"

    placement_file = submit(creditor, csv_file([row(1, schedule=schedule)])).placement_file

    assert placement_file.status == PlacementFile.Status.REJECTED
    assert "other due dates" in placement_file.report_lines.get().reason


def test_rows_with_one_national_id_share_one_customer_and_one_case(creditor, csv_file):
    rows = [row(1), row(2, national_id="110101199000000001")]

    submit(creditor, csv_file(rows))

    assert Customer.objects.count() == 1
    assert CollectionCase.objects.count() == 1
    assert Debt.objects.filter(case=CollectionCase.objects.get()).count() == 2


def test_an_existing_customer_is_reused_and_joins_their_open_case(creditor, product, csv_file):
    debt = make_debt(product=product, account_number="OLD-1")
    national_id = debt.customer.national_id

    submit(creditor, csv_file([row(1, national_id=national_id)]))

    new = Debt.objects.get(account_number="PL-000001")
    assert new.customer_id == debt.customer_id
    assert new.case_id == debt.case_id


def test_a_product_of_another_creditor_is_unknown_here(creditor, csv_file):
    other = ProductFactory(name="Other loan")

    placement_file = submit(creditor, csv_file([row(1, product=other.name)])).placement_file

    assert "Unknown product" in placement_file.report_lines.get().reason


def test_the_creditors_layout_maps_headers_dates_and_decimal_commas(creditor, csv_file):
    PlacementLayout.objects.create(
        creditor=creditor,
        date_format="%d/%m/%Y",
        decimal_separator=",",
        thousands_separator=".",
        col_account_number="合同号",
        col_product="产品",
        col_opened_on="放款日",
        col_name="姓名",
        col_national_id="身份证号",
        col_phone="手机",
        col_schedule="",
        col_due_on="到期日",
        col_principal="本金",
        col_interest="利息",
        col_total="应还总额",
    )
    rows = [
        {
            "合同号": "HT-1",
            "产品": "cash LOAN",
            "放款日": "15/01/2026",
            "姓名": "王芳",
            "身份证号": "110101198801011234",
            "手机": "+86 139 0013 9000",
            "到期日": "15/02/2026",
            "本金": "1.234,50",
            "利息": "65,50",
            "应还总额": "1.300,00",
        }
    ]

    placement_file = submit(creditor, csv_file(rows)).placement_file

    assert placement_file.status == PlacementFile.Status.DONE, list(placement_file.report_lines.values())
    debt = Debt.objects.get(account_number="HT-1")
    assert debt.opened_on == date(2026, 1, 15)
    instalment = debt.instalments.get()
    assert (instalment.due_on, instalment.principal, instalment.interest) == (
        date(2026, 2, 15),
        Decimal("1234.50"),
        Decimal("65.50"),
    )
    assert ContactPoint.objects.get(customer=debt.customer).value == "+8613900139000"


def test_the_demo_seed_imports_a_file_with_one_reported_row_and_is_repeatable(creditor):
    from cases.placements import demo

    placement_file = demo.seed(business_date=BUSINESS_DATE, rows=5)
    again = demo.seed(business_date=BUSINESS_DATE, rows=5)

    assert (placement_file.loaded, placement_file.rejected) == (4, 1)
    assert again.pk == placement_file.pk
    assert PlacementLayout.objects.filter(creditor=creditor).exists()
    assert Debt.objects.count() == 4


def test_a_failure_while_loading_rolls_every_row_back_and_marks_the_file_failed(
    creditor, csv_file, monkeypatch
):
    from cases.placements import services

    def broken(self, corrections):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services._Loader, "adjust", broken)
    before = business_rows()

    placement_file = submit(creditor, csv_file([row(1), row(2)])).placement_file

    assert placement_file.status == PlacementFile.Status.FAILED
    # The kind of error, never its text (it may quote server paths); the log has it all.
    assert "RuntimeError" in placement_file.error and "no row was loaded" in placement_file.error
    assert "disk full" not in placement_file.error
    assert placement_file.loaded == 0
    assert business_rows() == before
    # A failed import does not block importing the same file again.
    monkeypatch.undo()
    assert submit(creditor, csv_file([row(1), row(2)], name="again.csv")).placement_file.loaded == 2

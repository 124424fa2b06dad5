"""Tamper evidence: history rows are sealed in a hash chain per model and
``manage.py verify_audit`` names every edited or deleted sealed row."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django_celery_beat.models import PeriodicTask

from backoffice.models import AuditSeal
from backoffice.services import seal_history
from backoffice.tasks import seal_audit_history
from customers.models import Customer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

LABEL = "customers.customer"


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _history_ids(customer) -> list[int]:
    return list(customer.history.order_by("history_id").values_list("history_id", flat=True))


def _sql(statement: str, history_id: int) -> None:
    table = connection.ops.quote_name(Customer.history.model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(statement.format(table=table), [history_id])


def _verify(*args) -> tuple[str, str, int]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return out.getvalue(), err.getvalue() + str(exc), exc.returncode
    return out.getvalue(), err.getvalue(), 0


@pytest.fixture
def customer():
    customer = CustomerFactory(name="王小明")
    customer.name = "王小红"
    customer.save()
    return customer


def test_sealed_history_verifies_ok(customer):
    out, err, code = _verify()

    assert code == 0, err
    assert "OK:" in out
    assert AuditSeal.objects.filter(model_label=LABEL).count() == 2


def test_each_seal_chains_to_the_previous_one_of_its_model(customer):
    seal_history()

    first, second = AuditSeal.objects.filter(model_label=LABEL).order_by("id")
    assert first.previous_digest == ""
    assert second.previous_digest == first.digest
    assert [first.history_id, second.history_id] == _history_ids(customer)


def test_an_edited_history_row_is_named(customer):
    seal_history()
    edited = _history_ids(customer)[0]
    _sql("UPDATE {table} SET name = 'someone else' WHERE history_id = %s", edited)

    out, err, code = _verify("--no-seal")

    assert code != 0
    assert f"EDITED {LABEL} history_id {edited}" in err
    assert "1 problem" in err


def test_a_deleted_history_row_is_named(customer):
    seal_history()
    deleted = _history_ids(customer)[1]
    _sql("DELETE FROM {table} WHERE history_id = %s", deleted)

    out, err, code = _verify()

    assert code != 0
    assert f"DELETED {LABEL} history_id {deleted}" in err
    assert "EDITED" not in err


def test_a_second_sealing_seals_nothing_new(customer):
    first = seal_history()
    second = seal_history()

    assert first[LABEL] == 2
    assert second == {}
    assert AuditSeal.objects.filter(model_label=LABEL).count() == 2


def test_rows_written_after_sealing_are_chained_onto_the_last_seal(customer):
    seal_history()
    last = AuditSeal.objects.filter(model_label=LABEL).order_by("-id").first()
    customer.name = "王大明"
    customer.save()

    assert seal_audit_history.delay().get() == {LABEL: 1}
    newest = AuditSeal.objects.filter(model_label=LABEL).order_by("-id").first()
    assert newest.history_id == _history_ids(customer)[-1]
    assert newest.previous_digest == last.digest
    assert _verify("--no-seal")[2] == 0


def test_sealing_in_small_batches_gives_the_same_chain(customer):
    seal_history(batch_size=1)
    assert AuditSeal.objects.filter(model_label=LABEL).count() == 2
    assert _verify("--no-seal")[2] == 0


def test_an_unsealed_edit_is_not_reported_until_sealed(customer):
    """What the seal proves: rows changed before their first seal look genuine."""
    edited = _history_ids(customer)[0]
    _sql("UPDATE {table} SET name = 'someone else' WHERE history_id = %s", edited)

    assert _verify()[2] == 0


def test_seals_are_append_only(customer):
    seal_history()
    seal = AuditSeal.objects.first()
    seal.digest = "0" * 64

    with pytest.raises(ValidationError):
        seal.save()
    with pytest.raises(ValidationError):
        seal.delete()
    with pytest.raises(ValidationError):
        AuditSeal.objects.update(digest="0" * 64)
    with pytest.raises(ValidationError):
        AuditSeal.objects.all().delete()


def test_beat_seals_the_history_every_ten_minutes():
    task = PeriodicTask.objects.get(task="backoffice.tasks.seal_audit_history")

    assert task.enabled
    assert (task.interval.every, task.interval.period) == (10, "minutes")


def test_a_seal_removed_from_the_chain_breaks_it(customer):
    customer.name = "王大明"
    customer.save()
    seal_history()
    middle = AuditSeal.objects.filter(model_label=LABEL).order_by("id")[1]
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditSeal._meta.db_table} WHERE id = %s", [middle.pk])

    out, err, code = _verify("--no-seal")

    assert code != 0
    assert f"CHAIN BROKEN {LABEL} history_id {_history_ids(customer)[2]}" in err

"""Who sees statement rows and who works the suspense queue, per persona.

Money not yet on anybody's case: the roles that see every case see it;
supervisors and administrators import files and resolve suspense lines.
"""

import pytest

from backoffice import access
from cases.statements.services import import_statement
from tests.factories import make_debt
from tests.statements.conftest import BUSINESS_DATE
from tests.statements.factories import StatementSourceFactory, line, write_csv

pytest_plugins = ["tests.personas"]
pytestmark = pytest.mark.django_db

SEES = {"compliance", "supervisor", "administrator", "superuser"}
WORKS = {"supervisor", "administrator", "superuser"}


@pytest.fixture
def statement(tmp_path, personas):
    make_debt(account_number="ACC-ACCESS")
    path = write_csv(
        tmp_path / "s.csv",
        [line("A1", "2026-01-15", account="ACC-ACCESS"), line("A2", "2026-01-15", account="NOPE")],
    )
    return import_statement(
        path=path, source=StatementSourceFactory(), actor=personas["superuser"], business_date=BUSINESS_DATE
    ).file


@pytest.mark.parametrize(
    "function", ["statement_sources_for", "statement_files_for", "statement_lines_for", "suspense_lines_for"]
)
def test_statement_rows_are_seen_by_the_roles_that_see_every_case(world, personas, statement, function):
    failures = []
    for name in world.PERSONAS:
        user = world.fresh(personas[name])
        got = getattr(access, function)(user)
        expected = got.model._default_manager.all() if name in SEES else got.model._default_manager.none()
        if function == "suspense_lines_for" and name in SEES:
            expected = expected.filter(status="suspense")
        if set(got.values_list("pk", flat=True)) != set(expected.values_list("pk", flat=True)):
            failures.append(name)
    assert not failures, f"{function}: wrong rows for {failures}"
    assert access.statement_lines_for(world.fresh(personas["supervisor"])).count() == 2
    assert access.suspense_lines_for(world.fresh(personas["supervisor"])).count() == 1


def test_only_supervisors_and_administrators_import_and_resolve(world, personas):
    for name in world.PERSONAS:
        user = world.fresh(personas[name])
        assert access.may_import_statements(user) is (name in WORKS), name
        assert access.may_resolve_suspense(user) is (name in WORKS), name

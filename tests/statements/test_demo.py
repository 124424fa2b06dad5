from datetime import date

import pytest

from cases.statements.demo import seed
from cases.statements.models import StatementFile
from tests.factories import make_debt

pytestmark = pytest.mark.django_db


def test_the_demo_statement_has_posted_suspense_and_rejected_lines_and_reseeding_is_a_no_op():
    for _ in range(4):
        make_debt()

    seed(business_date=date(2026, 1, 20))
    seed(business_date=date(2026, 1, 20))

    statement = StatementFile.objects.get()
    assert (statement.posted_count, statement.suspense_count, statement.rejected_count) == (4, 2, 1)

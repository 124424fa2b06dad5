"""Export a creditor's month to text and read it back with our own reader."""

import io
from collections import Counter

from django.utils import timezone

from cases.bureau.reader import read_metro2, validate_metro2
from cases.bureau.services import write_file
from tests.bureau.factories import PERIOD


def export_text(creditor, period=PERIOD, **kw) -> tuple[str, Counter]:
    out = io.StringIO()
    totals, skipped, _deleted = write_file(
        creditor=creditor, period=period, out=out, generated_at=timezone.now(), **kw
    )
    return out.getvalue(), skipped


def records_by_account(creditor, period=PERIOD, **kw) -> tuple[dict, Counter]:
    """``{account number: Record}`` of the month's file (validated on the way)."""
    text, skipped = export_text(creditor, period, **kw)
    lines = text.splitlines()
    assert validate_metro2(lines) == []
    records = {r.fields["consumer_account_number"]: r for r in read_metro2(lines) if r.kind == "base"}
    return records, skipped

"""Demo data: bureau reports for the demo's delinquent customers, fetched
through the real service (validation, snapshot, skip trace) from an
in-process stand-in for the bureau, so ``make demo`` needs no network.

The lead wires it into ``seed_demo``: ``from cases.bureau_inquiry.demo
import seed as seed_bureau; seed_bureau(actor=actor, business_date=day,
rng=rng)`` after the close of business has aged the debts.
"""

import itertools
import random
from datetime import date

from cases.bureau_inquiry.client import BureauClient, BureauConfig
from cases.bureau_inquiry.models import Trigger
from cases.bureau_inquiry.selectors import due_for_refresh
from cases.bureau_inquiry.services import refresh_bureau_report

DEMO_BUREAU = "demo-bureau"
STREETS = ("Jianguo Road", "Huaihai Road", "Nanjing Road", "Renmin Avenue", "Zhongshan Road")
EMPLOYERS = ("Acme Trading Co.", "Huaxia Logistics", "Golden Dragon Foods", "Pearl River Textiles")


class _Reply:
    def __init__(self, body: dict):
        self.status_code = 200
        self.headers: dict = {}
        self._body = body
        self.text = ""

    def json(self):
        return self._body


class DemoBureauSession:
    """Answers the client's two POSTs like a bureau would, from ``rng``."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.ids = itertools.count(1)

    def post(self, url, *, json, headers, timeout):
        n = next(self.ids)
        rng = self.rng
        if url.endswith("/v1/credit-reports"):
            return _Reply(
                {
                    "request_id": f"DEMO-R-{n}-{rng.randrange(10**9)}",
                    "score": rng.randint(420, 780),
                    "score_model": "DEMO",
                    "tradelines": [
                        {
                            "creditor": f"Bank {chr(65 + i)}",
                            "kind": rng.choice(["card", "instalment", "mortgage"]),
                            "status": rng.choice(["open", "open", "closed"]),
                            "opened_on": f"20{rng.randint(12, 24)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                            "balance": f"{rng.randint(0, 50000)}.00",
                            "past_due": f"{rng.choice([0, 0, rng.randint(50, 3000)])}.00",
                        }
                        for i in range(rng.randint(1, 4))
                    ],
                    "delinquencies": [
                        {
                            "creditor": "Bank Z",
                            "reported_on": "2026-06-01",
                            "days_past_due": rng.choice([30, 60, 90]),
                            "amount": f"{rng.randint(100, 2000)}.00",
                        }
                        for _ in range(rng.randint(0, 2))
                    ],
                }
            )
        return _Reply(
            {
                "request_id": f"DEMO-T-{n}-{rng.randrange(10**9)}",
                "addresses": [{"value": f"{rng.randint(1, 300)} {rng.choice(STREETS)}", "reported_on": None}],
                "phones": [{"number": f"+86139{rng.randint(10**7, 10**8 - 1)}", "type": "mobile"}],
                "emails": [],
                "employer": {"name": rng.choice(EMPLOYERS), "phone": None} if rng.random() < 0.6 else None,
            }
        )


def seed(*, actor, business_date: date, rng: random.Random | None = None, limit: int = 50) -> int:
    """Fetch reports for up to ``limit`` customers due by policy on ``business_date``; the count fetched."""
    rng = rng or random.Random(6)
    config = BureauConfig(
        name=DEMO_BUREAU, base_url="demo://bureau", max_retries=0, rate_limit_per_minute=100_000
    )
    client = BureauClient(config, session=DemoBureauSession(rng))
    due = due_for_refresh(business_date=business_date, every_days=30, min_bucket=2)[:limit]
    for customer_id, debt_id in due:
        refresh_bureau_report(
            customer_id=customer_id,
            debt_id=debt_id,
            trigger=Trigger.SCHEDULED,
            period=business_date.isoformat(),
            actor=actor,
            reason="demo bureau refresh",
            client=client,
        )
    return len(due)

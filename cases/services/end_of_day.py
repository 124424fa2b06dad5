"""What the business day does after every debt is closed through it.

Close of business runs per chunk of debts; the steps here work across
cases (promises, plans, settlements, stages, risk scores, the watch list,
queue priorities) and run once
all chunks for the date are done. Each step is idempotent, so running this
twice for one date changes nothing the second time.
"""

from datetime import date, timedelta

from backoffice.audit import system_user
from backoffice.services import seal_history
from cases.services import events
from cases.services.dunning import evaluate_ladder
from cases.services.plans import mark_missed_plan_instalments
from cases.services.priority import refresh_priorities
from cases.services.promises import settle_due_promises
from cases.services.risk import early_warning, score_debts
from cases.services.settlements import expire_settlements
from cases.services.small_balances import close_expired_bulk_offers
from cases.services.stages import refresh_stages


def finish_business_day(*, business_date: date, actor=None) -> None:
    actor = actor or system_user()
    settle_due_promises(business_date=business_date, actor=actor)
    mark_missed_plan_instalments(business_date=business_date, actor=actor)
    expire_settlements(business_date=business_date, actor=actor)
    close_expired_bulk_offers(business_date=business_date, actor=actor)
    refresh_stages(business_date=business_date, actor=actor)
    # Outside agencies: expired periods, disputed and paid-off cases come back.
    events.business_day_finishing.send(sender=None, business_date=business_date, actor=actor)
    # Risk scores feed the priorities; the watch list feeds the ladder's
    # pre-due step.
    score_debts(as_of=business_date, actor=actor)
    early_warning(business_date=business_date, actor=actor)
    # The queue this builds serves the next working day.
    refresh_priorities(today=business_date + timedelta(days=1), actor=actor)
    # The ladder runs last: its call steps set tomorrow's next action, which
    # the priority refresh above would otherwise overwrite.
    evaluate_ladder(business_date=business_date, actor=actor)
    # Seal the day's history (DESIGN.md, Audit: tamper evidence) so the
    # night's changes are covered before the next working day starts.
    seal_history()

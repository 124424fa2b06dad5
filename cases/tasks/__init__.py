"""The cases app's Celery tasks, one module per area.

Celery's autodiscovery imports this package, which registers every task.
Task names are fixed strings (``cases.tasks.<name>``), so the beat schedules
stored in the database keep working wherever a task's module lives.
"""

from cases.tasks.assignment import (  # noqa: F401
    auto_assign_cases,
    refresh_case_priorities,
    refresh_case_stages,
)
from cases.tasks.business_day import (  # noqa: F401
    SUMMARY_AMOUNTS,
    SUMMARY_COUNTS,
    chunk_signatures,
    close_of_business,
    close_of_business_chunk,
    close_of_business_summary,
    combine_summaries,
    default_business_date,
    logger,
    resolve_business_date,
    run_close_of_business_via_workers,
)
from cases.tasks.messaging import (  # noqa: F401
    MAX_TASK_RETRIES,
    SEND_CHUNK,
    combine_ladder_summaries,
    evaluate_ladder_chunk_task,
    evaluate_ladder_task,
    ladder_signatures,
    retry_waiting_task,
    run_ladder_via_workers,
    send_due_messages_task,
    send_message_task,
)
from cases.tasks.risk import (  # noqa: F401
    retrain_risk_model,
    score_risk,
)
from cases.tasks.small_balances import (  # noqa: F401
    approve_bulk_offer_task,
    close_expired_bulk_offers_task,
)

"""Writes about the audit itself: access records and history seals.

``record_access`` / ``record_accesses`` write who looked at sensitive data
(DESIGN.md, Audit: "views of sensitive data are audited too"). The callers
keep their ``ledgerline.audit`` log lines; the row is what an auditor can
query.

``seal_history`` makes the simple-history tables tamper-evident. For each
audited model (``backoffice.selectors.audited_models``) it appends one
``AuditSeal`` per history row not sealed yet, in ``history_id`` order::

    digest = sha256(previous_digest + canonical_row(row))

where ``previous_digest`` is the digest of the model's previous seal ("" for
the first) and ``canonical_row`` is JSON of every concrete column of the
historical row (the ``history_*`` columns included; foreign keys as ids,
datetimes ISO in UTC, dates ISO, decimals as strings; keys sorted).
``manage.py verify_audit`` recomputes the chains.

What this proves: a history row that was sealed and later edited or
deleted (by SQL, an admin tool, anything) is found and named, and a seal
removed from the middle of a chain breaks it. Sealing runs every ten
minutes (beat, ``backoffice.tasks.seal_audit_history``) and at the end of
every close of business (``cases.services.end_of_day``).

What it does not prove: a row changed or deleted *before its first seal*
(at most one sealing interval after it was written) looks genuine; the
seals live in the same database, so someone who can rewrite both the rows
and every later seal can forge a consistent chain (export the latest
digests elsewhere to guard against that); removing the *last* seals of a
chain together with their rows is not visible; the many-to-many history
tables (``Team.members``) are not sealed. Deleting a user sets
``history_user_id`` to NULL on its history rows, which verification then
reports as edited: users are deactivated, not deleted.

A history row whose transaction commits after a later row was already
sealed (PostgreSQL hands out ids before commit) is still sealed: each run
looks ``STRAGGLER_WINDOW`` ids back below the last sealed row for rows
without a seal and appends them to the chain, so a chain follows seal
order (``AuditSeal.id``), which is ``history_id`` order but for such rows.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID

from django.db import connection, models, transaction
from django.db.models import Exists, Max, OuterRef

from backoffice.audit import operator_name, system_user
from backoffice.models import AccessRecord, AuditSeal

log = logging.getLogger("ledgerline.audit")

STRAGGLER_WINDOW = 10_000
# Any constant: serialises concurrent sealers on PostgreSQL.
_SEAL_LOCK = 7_020_917


# --------------------------------------------------------------------------
# Access records


def _target(obj) -> dict:
    if obj is None:
        return {}
    return {
        "object_label": str(obj)[:255],
        "app_label": obj._meta.app_label,
        "model_name": obj._meta.model_name,
        "object_id": str(obj.pk),
    }


def record_access(*, user, action: str, obj=None, detail: str = "") -> AccessRecord:
    """Write one access record: ``user`` did ``action`` (an
    ``AccessRecord.Action``) on ``obj`` (optional) now."""
    record = AccessRecord(user=user, action=action, detail=detail, **_target(obj))
    record.full_clean()
    record.save()
    return record


def record_accesses(*, user, action: str, objs: Iterable, detail: str = "") -> list[AccessRecord]:
    """One access record per object, in one insert (a list page)."""
    records = [AccessRecord(user=user, action=action, detail=detail, **_target(obj)) for obj in objs]
    return AccessRecord.objects.bulk_create(records)


def record_download(*, user, action: str, obj, file_name: str, rows: int, via: str = "") -> AccessRecord:
    """The access record of one file of personal data handed out (issue #15):
    a CSV export (``EXPORT_CSV``) or a Metro 2 file (``DOWNLOAD_METRO2``).

    ``detail`` names the file, how many data rows it held and, for a file
    written by a command, ``via`` (the command and the operator who ran it);
    never a value from the file itself."""
    detail = f"{file_name}; rows={rows}"
    if via:
        detail += f"; via {via}"
    return record_access(user=user, action=action, obj=obj, detail=detail)


def record_command_file(
    *, action: str, obj, out_path: str, rows: int, command: str, ids: dict
) -> AccessRecord:
    """A file of personal data written by a management command (``--out``,
    ``--report``): one access record as the system user (an operator's shell
    has no Ledgerline login) naming the operating-system account that ran
    it, and one audit log line with ids and counts only."""
    operator = operator_name()
    entry = record_download(
        user=system_user(),
        action=action,
        obj=obj,
        file_name=os.path.basename(out_path),
        rows=rows,
        via=f"{command}, operator {operator}",
    )
    log.info("file written by %s", command.split()[0], extra={**ids, "rows": rows, "operator": operator})
    return entry


# --------------------------------------------------------------------------
# Sealing


def _plain(value):
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, timedelta):
        return str(value.total_seconds())
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    raise TypeError(f"cannot seal a {type(value).__name__}")


def row_columns(hmodel: type[models.Model]) -> list[str]:
    """The column attributes a seal covers: every concrete field."""
    return [f.attname for f in hmodel._meta.concrete_fields]


def canonical_row(values: dict) -> str:
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain)


def row_digest(previous_digest: str, values: dict) -> str:
    return hashlib.sha256((previous_digest + canonical_row(values)).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SealedModel:
    model_label: str
    history_model: type[models.Model]


def sealed_models() -> list[SealedModel]:
    """The audited models and their historical models, by label."""
    from backoffice.selectors import audited_models, history_model

    return [SealedModel(m._meta.label_lower, history_model(m)) for m in audited_models()]


def _lock_sealing() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_SEAL_LOCK])


def _seal_batch(target: SealedModel, batch_size: int) -> int:
    """Seal up to ``batch_size`` unsealed rows of one model; how many."""
    with transaction.atomic():
        _lock_sealing()
        seals = AuditSeal.objects.filter(model_label=target.model_label)
        last = seals.order_by("-id").values("digest").first()
        highest = seals.aggregate(highest=Max("history_id"))["highest"]
        rows = target.history_model._default_manager.all()
        if highest is not None:
            sealed = AuditSeal.objects.filter(
                model_label=target.model_label, history_id=OuterRef("history_id")
            )
            rows = rows.filter(history_id__gt=highest - STRAGGLER_WINDOW).exclude(Exists(sealed))
        batch = list(rows.order_by("history_id").values(*row_columns(target.history_model))[:batch_size])
        previous = last["digest"] if last else ""
        new = []
        for values in batch:
            digest = row_digest(previous, values)
            new.append(
                AuditSeal(
                    model_label=target.model_label,
                    history_id=values["history_id"],
                    digest=digest,
                    previous_digest=previous,
                )
            )
            previous = digest
        AuditSeal.objects.bulk_create(new)
        return len(new)


def seal_history(*, batch_size: int = 5000) -> dict[str, int]:
    """Seal every history row not sealed yet; returns rows sealed per model
    label (models with nothing new are left out). Safe to run twice and
    concurrently: a second run seals nothing."""
    sealed: dict[str, int] = {}
    for target in sealed_models():
        while True:
            count = _seal_batch(target, batch_size)
            if count:
                sealed[target.model_label] = sealed.get(target.model_label, 0) + count
            if count < batch_size:
                break
    if sealed:
        log.info("history sealed", extra={"sealed": sealed})
    return sealed


# --------------------------------------------------------------------------
# Verification


@dataclass(frozen=True)
class Finding:
    kind: str  # "EDITED", "DELETED" or "CHAIN BROKEN"
    model_label: str
    history_id: int

    def __str__(self) -> str:
        return f"{self.kind} {self.model_label} history_id {self.history_id}"


def verify_history(*, batch_size: int = 5000) -> tuple[list[Finding], dict[str, int]]:
    """Walk every model's seals in chain order and recompute them from the
    current rows. Returns the findings and the seals checked per model."""
    findings: list[Finding] = []
    checked: dict[str, int] = {}
    for target in sealed_models():
        columns = row_columns(target.history_model)
        expected_previous = ""
        after = 0
        count = 0
        while True:
            seals = list(
                AuditSeal.objects.filter(model_label=target.model_label, id__gt=after).order_by("id")[
                    :batch_size
                ]
            )
            if not seals:
                break
            rows = {
                values["history_id"]: values
                for values in target.history_model._default_manager.filter(
                    history_id__in=[s.history_id for s in seals]
                ).values(*columns)
            }
            for seal in seals:
                if seal.previous_digest != expected_previous:
                    findings.append(Finding("CHAIN BROKEN", target.model_label, seal.history_id))
                values = rows.get(seal.history_id)
                if values is None:
                    findings.append(Finding("DELETED", target.model_label, seal.history_id))
                elif row_digest(seal.previous_digest, values) != seal.digest:
                    findings.append(Finding("EDITED", target.model_label, seal.history_id))
                expected_previous = seal.digest
            count += len(seals)
            after = seals[-1].id
        checked[target.model_label] = count
    return findings, checked

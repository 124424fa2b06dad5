"""History reads across every audited model (DESIGN.md, Audit).

``history_rows`` answers "who changed this, when, from what to what" for the
supervisors' audit trail, its CSV export and the per-record page. It reads
the simple-history tables of the domain apps directly; written by hand
because simple-history only lists one model's history at a time and its
``prev_record``/``diff_against`` cost one or more queries per row.

How a page is read, in a number of queries that does not grow with its rows:

1. one ``UNION ALL`` over the historical tables picks the page's keys
   ``(history_date, history_id, model)`` newest first; on PostgreSQL each
   table contributes at most the rows the page could need, read backwards
   along its ``history_date`` index;
2. per model on the page, one query loads the page's versions and the
   version just before each (a correlated lookup on the indexed object id,
   for those rows only), with the acting user; diffs are made in Python;
3. per foreign key that an object's ``__str__`` or a changed field needs,
   one query; per many-to-many field (``Team.members``), one query.

The ``field`` filter ("only versions where this field changed") compares
each scanned version with its predecessor in SQL, so its cost grows with
the versions it scans and with how many versions each object has (there is
no ``(id, history_date)`` index on the historical tables); narrow it with a
model, an object or dates on big tables.

Pagination is by keyset (``before``/``after`` a row's cursor) so no page
counts rows; ``offset`` exists for small jumps. National IDs are masked in
object names and diffs unless ``can_view_full_id(user)``. The caller decides
whether ``user`` may read the audit trail at all
(``backoffice.views.audit.can_view_audit``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models import (
    BooleanField,
    Case,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.lookups import Exact, IsNull
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import localize
from django.utils.translation import gettext as _

from backoffice.access import can_view_full_id
from backoffice.roles import DOMAIN_APPS
from customers.models import mask_national_id

# Fields never shown in full without ``customers.view_full_id``, by model.
MASKED_FIELDS: dict[str, dict[str, object]] = {
    "customers.customer": {"national_id": mask_national_id},
    "statements.statementline": {"national_id": mask_national_id},
}

EMPTY = "—"


# --------------------------------------------------------------------------
# Which models are audited


def audited_models() -> list[type[models.Model]]:
    """Every model of the domain apps with a simple-history manager, by label."""
    found = [
        model
        for model in apps.get_models()
        if model._meta.app_label in DOMAIN_APPS
        and getattr(model._meta, "simple_history_manager_attribute", None)
    ]
    return sorted(found, key=lambda m: m._meta.label_lower)


def audited_model(label: str) -> type[models.Model] | None:
    """The audited model called ``app_label.model_name``, or ``None``."""
    label = (label or "").lower()
    for model in audited_models():
        if model._meta.label_lower == label:
            return model
    return None


def history_model(model: type[models.Model]) -> type[models.Model]:
    return getattr(model, model._meta.simple_history_manager_attribute).model


def _m2m_fields(model) -> list[models.ManyToManyField]:
    return list(getattr(history_model(model), "_history_m2m_fields", []) or [])


def _diff_fields(model) -> list[models.Field]:
    """Tracked, editable, concrete fields (what ``diff_against`` compares)."""
    return [f for f in history_model(model).tracked_fields if f.editable and not f.many_to_many]


def tracked_field_names(model) -> list[str]:
    return sorted({f.name for f in _diff_fields(model)} | {f.name for f in _m2m_fields(model)})


def all_tracked_field_names() -> list[str]:
    names: set[str] = set()
    for model in audited_models():
        names.update(tracked_field_names(model))
    return sorted(names)


# --------------------------------------------------------------------------
# What a row looks like


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    old: str
    new: str


@dataclass
class HistoryRow:
    model: type[models.Model]
    app_label: str
    model_name: str
    model_verbose_name: str
    object_id: int
    object_repr: str
    history_id: int
    history_date: datetime
    history_user: object | None
    history_type: str
    reason: str
    changes: list[FieldChange] = field(default_factory=list)

    @property
    def model_label(self) -> str:
        return f"{self.app_label}.{self.model_name}"

    @property
    def user_display(self) -> str:
        if self.history_user is None:
            return EMPTY
        return self.history_user.get_username()

    @property
    def action(self) -> str:
        return {"+": _("Created"), "~": _("Changed"), "-": _("Deleted")}.get(
            self.history_type, self.history_type
        )

    @property
    def cursor(self) -> str:
        return encode_cursor(self.history_date, self.history_id, self.model_label)


@dataclass
class HistoryPage:
    """Rows in display order; ``has_more``: more rows lie beyond the page in
    the direction it was read (older for ``before``, newer for ``after``)."""

    rows: list[HistoryRow]
    has_more: bool

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


# --------------------------------------------------------------------------
# Cursors: (history_date, history_id, model label), newest first


@dataclass(frozen=True)
class Cursor:
    history_date: datetime
    history_id: int
    model_label: str


def encode_cursor(history_date: datetime, history_id: int, model_label: str) -> str:
    return f"{history_date.isoformat()}~{history_id}~{model_label}"


def decode_cursor(raw: str | None) -> Cursor | None:
    """A cursor from a URL, or ``None`` when it is missing or malformed."""
    if not raw:
        return None
    parts = raw.split("~")
    if len(parts) != 3:
        return None
    moment = parse_datetime(parts[0].replace(" ", "+"))
    if moment is None or not parts[1].isdigit() or audited_model(parts[2]) is None:
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.UTC)
    return Cursor(moment, int(parts[1]), parts[2].lower())


def _cursor_q(cursor: Cursor, label: str, *, older: bool) -> Q:
    """Rows of model ``label`` strictly older (or newer) than ``cursor`` in the
    order (history_date, history_id, model label)."""
    if older:
        same_id = label < cursor.model_label
        return Q(history_date__lt=cursor.history_date) | Q(
            history_date=cursor.history_date,
            **{"history_id__lte" if same_id else "history_id__lt": cursor.history_id},
        )
    same_id = label > cursor.model_label
    return Q(history_date__gt=cursor.history_date) | Q(
        history_date=cursor.history_date,
        **{"history_id__gte" if same_id else "history_id__gt": cursor.history_id},
    )


# --------------------------------------------------------------------------
# The read


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _previous_version(hmodel, column="history_id") -> Subquery:
    """``column`` (a name or an expression) of the same object's version just
    before this one.

    Ordered by ``history_date + 0 seconds``: on PostgreSQL a plain
    ``ORDER BY history_date DESC LIMIT 1`` tempts the planner to walk the
    whole ``history_date`` index filtering on the object id (measured: 18 s
    for 600 rows over 300,000 versions); the expression only the object-id
    index can serve, so each lookup reads just that object's versions.
    """
    earlier = Q(history_date__lt=OuterRef("history_date")) | Q(
        history_date=OuterRef("history_date"), history_id__lt=OuterRef("history_id")
    )
    fenced = ExpressionWrapper(F("history_date") + Value(timedelta(0)), output_field=DateTimeField())
    versions = hmodel.objects.filter(earlier, id=OuterRef("id")).order_by(
        fenced.desc(), F("history_id").desc()
    )
    if not isinstance(column, str):
        versions = versions.annotate(_value=column)
        column = "_value"
    return Subquery(versions.values(column)[:1])


def _field_changed_filters(model, hmodel, name: str) -> list | None:
    """Filters keeping rows where field ``name`` differs from the previous
    version; ``None`` when the model does not track that field. Expects the
    ``prev_history_id`` annotation for a many-to-many field and
    ``_field_changed`` for any other (see ``_keys_queryset``)."""
    m2m = {f.name: f for f in _m2m_fields(model)}
    if name in m2m:
        m2m_model = getattr(hmodel, name).model
        target = _m2m_target_attname(model, m2m[name])

        def members_of(ref):
            return m2m_model.objects.filter(history_id=ref).values(target)

        added = m2m_model.objects.filter(history_id=OuterRef("history_id")).exclude(
            **{f"{target}__in": members_of(OuterRef(OuterRef("prev_history_id")))}
        )
        removed = m2m_model.objects.filter(history_id=OuterRef("prev_history_id")).exclude(
            **{f"{target}__in": members_of(OuterRef(OuterRef("history_id")))}
        )
        return [Q(prev_history_id__isnull=False), Exists(added) | Exists(removed)]
    if name not in {f.name for f in _diff_fields(model)}:
        return None
    return [~Q(history_type="-"), Q(_field_changed=True)]


def _field_changed(hmodel, name: str) -> Subquery:
    """True when the previous version's ``name`` is distinct from this one's,
    ``NULL`` for a first version; one correlated lookup per row."""
    attname = hmodel._meta.get_field(name).attname
    same = Q(Exact(F(attname), OuterRef(attname))) | Q(
        IsNull(F(attname), True), IsNull(OuterRef(attname), True)
    )
    return _previous_version(
        hmodel,
        Case(When(same, then=Value(False)), default=Value(True), output_field=BooleanField()),
    )


def _m2m_target_attname(model, m2m_field) -> str:
    """The through column naming the related object (``user_id`` for members)."""
    from simple_history.utils import get_m2m_reverse_field_name

    hmodel = history_model(model)
    m2m_model = getattr(hmodel, m2m_field.name).model
    return m2m_model._meta.get_field(get_m2m_reverse_field_name(m2m_field)).attname


def _keys_queryset(
    index: int,
    model,
    *,
    object_id,
    history_user,
    date_from,
    date_to,
    reason_contains,
    field,
    before: Cursor | None,
    after: Cursor | None,
):
    hmodel = history_model(model)
    label = model._meta.label_lower
    qs = hmodel.objects.all()
    if object_id is not None:
        qs = qs.filter(id=object_id)
    if history_user is not None:
        qs = qs.filter(history_user_id=getattr(history_user, "pk", history_user))
    if date_from is not None:
        qs = qs.filter(history_date__gte=_day_start(date_from))
    if date_to is not None:
        qs = qs.filter(history_date__lt=_day_start(date_to + timedelta(days=1)))
    if reason_contains:
        qs = qs.filter(history_change_reason__icontains=reason_contains)
    if before is not None:
        qs = qs.filter(_cursor_q(before, label, older=True))
    if after is not None:
        qs = qs.filter(_cursor_q(after, label, older=False))
    qs = qs.annotate(model_idx=Value(index, output_field=IntegerField()))
    if field:
        changed = _field_changed_filters(model, hmodel, field)
        if changed is None:
            return None
        if field in {f.name for f in _m2m_fields(model)}:
            qs = qs.annotate(prev_history_id=_previous_version(hmodel))
        else:
            qs = qs.annotate(_field_changed=_field_changed(hmodel, field))
        qs = qs.filter(*changed)
    return qs.order_by().values_list("history_date", "history_id", "model_idx")


def history_rows(
    *,
    user,
    models: Iterable | None = None,
    object_id: int | None = None,
    history_user=None,
    date_from: date | None = None,
    date_to: date | None = None,
    reason_contains: str | None = None,
    field: str | None = None,
    limit: int = 50,
    offset: int = 0,
    before: Cursor | None = None,
    after: Cursor | None = None,
    oldest_first: bool = False,
) -> HistoryPage:
    """History of the audited models, newest first (``oldest_first`` for one
    record's story), filtered and paginated.

    ``models``: model classes or ``"app_label.model_name"`` labels (default:
    all audited models). ``history_user``: a user or user id. ``date_to`` is
    inclusive. ``field``: only versions where that field changed (models
    without it are left out). ``before``/``after``: only rows older/newer
    than a row's ``cursor``. ``user`` decides masking only.
    """
    chosen = _resolve_models(models)
    if field:
        chosen = [m for m in chosen if field in tracked_field_names(m)]
    if not chosen or limit <= 0:
        return HistoryPage([], False)
    descending = before is not None or (after is None and not oldest_first)
    order = (
        ("-history_date", "-history_id", "-model_idx")
        if descending
        else ("history_date", "history_id", "model_idx")
    )
    wanted = offset + limit + 1
    # Each table gives at most the rows the page could need, read in index
    # order: PostgreSQL then stops early in every table however selective
    # the filters are (a plain UNION ALL + ORDER BY may sort whole tables).
    # SQLite cannot order or limit the members of a compound query.
    per_part_limit = connections[DEFAULT_DB_ALIAS].features.supports_slicing_ordering_in_compound
    parts = []
    for index, model in enumerate(chosen):
        qs = _keys_queryset(
            index,
            model,
            object_id=object_id,
            history_user=history_user,
            date_from=date_from,
            date_to=date_to,
            reason_contains=reason_contains,
            field=field,
            before=before,
            after=after,
        )
        if qs is not None:
            parts.append(qs)
    if not parts:
        return HistoryPage([], False)
    if len(parts) == 1:
        combined = parts[0]
    else:
        if per_part_limit:
            parts = [qs.order_by(*order[:2])[:wanted] for qs in parts]
        # The model index breaks ties the same way as the label does in the
        # cursor, because ``chosen`` is sorted by label.
        combined = parts[0].union(*parts[1:], all=True)
    keys = list(combined.order_by(*order)[offset : offset + limit + 1])
    has_more = len(keys) > limit
    keys = keys[:limit]
    if descending == oldest_first:
        keys.reverse()
    rows = _build_rows(user, [(chosen[idx], hid) for _, hid, idx in keys])
    return HistoryPage(rows, has_more)


def _resolve_models(models_arg) -> list[type[models.Model]]:
    everything = audited_models()
    if not models_arg:
        return everything
    wanted = set()
    for item in models_arg:
        wanted.add(item.lower() if isinstance(item, str) else item._meta.label_lower)
    return [m for m in everything if m._meta.label_lower in wanted]


# --------------------------------------------------------------------------
# Turning keys into rows


def _build_rows(user, keys) -> list[HistoryRow]:
    full_ids = can_view_full_id(user)
    page_ids: dict[type, list[int]] = defaultdict(list)
    for model, hid in keys:
        page_ids[model].append(hid)
    records: dict[tuple[type, int], models.Model] = {}
    previous: dict[tuple[type, int], models.Model | None] = {}
    for model, ids in page_ids.items():
        found = _load_with_previous(model, ids)
        for record in found:
            records[(model, record.history_id)] = record
        previous.update({(model, hid): prev for hid, prev in _previous_of(ids, found).items()})

    page = [(model, records[(model, hid)], previous[(model, hid)]) for model, hid in keys]
    by_model: dict[type, list] = defaultdict(list)
    for model, record, prev in page:
        by_model[model].append((record, prev))

    object_names: dict[tuple[type, int], str] = {}
    m2m_values = _load_m2m(by_model)
    raw_changes: dict[tuple[type, int], list[tuple[models.Field, object, object]]] = {}
    related_ids: dict[type, set] = defaultdict(set)
    for model, pairs in by_model.items():
        instances = [record.history_object for record, _prev in pairs]
        names = display_strings(instances)
        for (record, prev), name in zip(pairs, names, strict=True):
            object_names[(model, record.history_id)] = name
            changes = _changes(model, record, prev, m2m_values)
            raw_changes[(model, record.history_id)] = changes
            for fld, old, new in changes:
                target = _related_model(fld)
                if target is None:
                    continue
                for value in (old, new):
                    if fld.many_to_many:
                        related_ids[target].update(value)
                    elif value is not None:
                        related_ids[target].add(value)
    related_names = _load_related_names(related_ids)

    rows = []
    for model, record, _prev in page:
        masks = {} if full_ids else MASKED_FIELDS.get(model._meta.label_lower, {})
        name = object_names[(model, record.history_id)]
        for fname, mask in masks.items():
            secret = getattr(record, fname, "")
            if secret:
                name = name.replace(secret, mask(secret))
        rows.append(
            HistoryRow(
                model=model,
                app_label=model._meta.app_label,
                model_name=model._meta.model_name,
                model_verbose_name=str(model._meta.verbose_name),
                object_id=record.id,
                object_repr=name,
                history_id=record.history_id,
                history_date=record.history_date,
                history_user=record.history_user,
                history_type=record.history_type,
                reason=record.history_change_reason or "",
                changes=[
                    FieldChange(
                        field=fld.name,
                        label=str(fld.verbose_name),
                        old=_display(fld, old, related_names, masks),
                        new=_display(fld, new, related_names, masks),
                    )
                    for fld, old, new in raw_changes[(model, record.history_id)]
                ],
            )
        )
    return rows


def _load_with_previous(model, history_ids: list[int]) -> list[models.Model]:
    """The versions ``history_ids`` and each one's previous version, in one query."""
    hmodel = history_model(model)
    previous_ids = (
        hmodel.objects.filter(history_id__in=history_ids)
        .annotate(prev_history_id=_previous_version(hmodel))
        .values("prev_history_id")
    )
    return list(
        hmodel.objects.filter(Q(history_id__in=history_ids) | Q(history_id__in=previous_ids)).select_related(
            "history_user"
        )
    )


def _previous_of(history_ids: list[int], versions: list[models.Model]) -> dict[int, models.Model | None]:
    """For each of ``history_ids``, the latest of ``versions`` of the same
    object before it. ``versions`` holds every wanted row's true previous
    version, so the latest earlier one among them is that version."""
    by_object: dict[int, list] = defaultdict(list)
    for version in versions:
        by_object[version.id].append(version)
    for group in by_object.values():
        group.sort(key=lambda v: (v.history_date, v.history_id))
    by_history_id = {v.history_id: v for v in versions}
    result = {}
    for hid in history_ids:
        current = by_history_id[hid]
        earlier = [
            v
            for v in by_object[current.id]
            if (v.history_date, v.history_id) < (current.history_date, current.history_id)
        ]
        result[hid] = earlier[-1] if earlier else None
    return result


def _changes(model, record, prev, m2m_values) -> list[tuple[models.Field, object, object]]:
    """Changed fields, old and new raw values (FKs as ids, m2m as id lists)."""
    if prev is None or record.history_type == "-":
        return []
    names = [f.name for f in _diff_fields(model)]
    delta = record.diff_against(prev, included_fields=names)
    source = model._meta
    changes = [(source.get_field(c.field), c.old, c.new) for c in delta.changes]
    for m2m_field in _m2m_fields(model):
        old = m2m_values.get((model, m2m_field.name, prev.history_id), [])
        new = m2m_values.get((model, m2m_field.name, record.history_id), [])
        if old != new:
            changes.append((m2m_field, old, new))
    changes.sort(key=lambda c: c[0].name)
    return changes


def _load_m2m(by_model) -> dict[tuple[type, str, int], list]:
    """Related ids per (model, m2m field, history_id), one query per field."""
    values: dict[tuple[type, str, int], list] = {}
    for model, pairs in by_model.items():
        fields = _m2m_fields(model)
        if not fields:
            continue
        ids = {r.history_id for r, _p in pairs} | {p.history_id for _r, p in pairs if p is not None}
        for m2m_field in fields:
            m2m_model = getattr(history_model(model), m2m_field.name).model
            target = _m2m_target_attname(model, m2m_field)
            grouped: dict[int, list] = defaultdict(list)
            for hid, related in m2m_model.objects.filter(history_id__in=ids).values_list(
                "history_id", target
            ):
                grouped[hid].append(related)
            for hid in ids:
                values[(model, m2m_field.name, hid)] = sorted(grouped.get(hid, []))
    return values


def _related_model(fld) -> type[models.Model] | None:
    if fld.many_to_many or fld.many_to_one or fld.one_to_one:
        return fld.related_model
    return None


def _load_related_names(related_ids: dict[type, set]) -> dict[tuple[type, object], str]:
    names: dict[tuple[type, object], str] = {}
    for target, ids in related_ids.items():
        if not ids:
            continue
        objects = list(target._base_manager.filter(pk__in=ids))
        for obj, name in zip(objects, display_strings(objects), strict=True):
            names[(target, obj.pk)] = name
    return names


def _display(fld, value, related_names, masks) -> str:
    """A value as a person reads it: choice labels, related names, masked IDs."""
    if fld.name in masks:
        return masks[fld.name](value or "") or EMPTY
    target = _related_model(fld)
    if fld.many_to_many:
        return ", ".join(related_names.get((target, v), f"#{v}") for v in value) or EMPTY
    if value is None or value == "":
        return EMPTY
    if target is not None:
        return related_names.get(
            (target, value),
            _("%(model)s #%(id)s (deleted)")
            % {
                "model": target._meta.verbose_name,
                "id": value,
            },
        )
    if fld.flatchoices:
        return str(dict(fld.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime):
        return localize(timezone.localtime(value) if timezone.is_aware(value) else value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return str(value)


# --------------------------------------------------------------------------
# ``__str__`` without one query per row


def display_strings(instances: list[models.Model], depth: int = 2) -> list[str]:
    """``str()`` of each instance, loading the foreign keys ``__str__`` uses
    in one query per key instead of one per row.

    Which keys ``__str__`` follows is found on a copy with every foreign key
    empty (no query), then those keys are prefetched for all instances; the
    related objects are treated the same way, ``depth`` levels down.
    """
    if not instances:
        return []
    used = _fks_used_by_str(instances[0])
    if used:
        models.prefetch_related_objects(instances, *used)
        if depth > 1:
            for name in used:
                related = [getattr(obj, name) for obj in instances]
                related = [r for r in related if r is not None]
                by_class: dict[type, list] = defaultdict(list)
                for obj in related:
                    by_class[type(obj)].append(obj)
                for group in by_class.values():
                    display_strings(group, depth - 1)
    names = []
    for obj in instances:
        try:
            names.append(str(obj))
        except Exception:  # a deleted related row must not break the audit trail
            names.append(f"{obj._meta.verbose_name} #{obj.pk}")
    return names


def _fks_used_by_str(sample: models.Model) -> list[str]:
    fks = [f for f in sample._meta.concrete_fields if f.many_to_one or f.one_to_one]
    if not fks:
        return []
    probe = type(sample)(**{f.attname: getattr(sample, f.attname) for f in sample._meta.concrete_fields})
    for fk in fks:
        setattr(probe, fk.attname, None)
    try:
        str(probe)
    except Exception:
        pass
    used = []
    for fk in fks:
        try:
            cached = fk.is_cached(probe)
        except FieldDoesNotExist:  # pragma: no cover - defensive
            cached = False
        if cached:
            used.append(fk.name)
    return used

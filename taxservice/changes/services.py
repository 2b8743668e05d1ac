"""Writing the change log. Call `record_change` inside the transaction of the change."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from taxservice.changes.models import ChangeLog
from taxservice.org.models import Staff

Action = ChangeLog.Action


def snapshot(obj: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The object's field values as JSON-able data, for `record_change`'s before and after.

    A foreign key is kept as its object's label (what a reader recognises), a many-to-many
    field as the sorted labels; `fields` limits it to some names (default: every concrete
    and many-to-many field, except the primary key)."""
    wanted = set(fields) if fields is not None else None
    values: dict[str, Any] = {}
    opts = obj._meta
    for field in [*opts.concrete_fields, *opts.many_to_many]:
        if field.primary_key or (wanted is not None and field.name not in wanted):
            continue
        if field.many_to_many:
            values[field.name] = sorted(str(item) for item in getattr(obj, field.name).all()) if obj.pk else []
        elif field.is_relation:
            related = getattr(obj, field.name)
            values[field.name] = str(related) if related is not None else None
        else:
            values[field.name] = field.value_from_object(obj)
    return values


def _diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    names = list(dict.fromkeys([*before, *after]))
    return {name: [before.get(name), after.get(name)] for name in names if before.get(name) != after.get(name)}


def record_change(
    *,
    actor: Staff | None,
    obj: models.Model,
    action: str,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    reason: str = "",
    actor_name: str = "",
) -> ChangeLog | None:
    """Write one change-log row for `obj`: only the fields whose value differs between
    `before` and `after`. Writes nothing (returns None) when nothing changed, except for a
    creation or a deletion, which is always recorded. `actor` None is the system; pass
    `actor_name` for a user without a staff record (an administrator in the admin)."""
    changes = _diff(before, after)
    if not changes and action not in (Action.CREATED, Action.DELETED):
        return None
    return ChangeLog.objects.create(
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=True),
        object_id=obj.pk,
        object_label=str(obj)[:200],
        action=action,
        changes=changes,
        reason=(reason or "")[:500],
        actor=actor,
        actor_name=(actor.name if actor is not None else actor_name)[:150],
    )

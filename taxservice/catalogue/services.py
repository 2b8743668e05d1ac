"""Writes to the item catalogue: an item's time limits.

A change of the limits is audited (`ItemLimitChange`) and recomputes the due times of
the item's open tasks (a `ClockRecompute` restricted to the item); closed tasks keep the
due times they were held to.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from taxservice import access
from taxservice.catalogue.models import LIMIT_FIELDS, Item, ItemLimitChange
from taxservice.errors import InvalidInput, NotFound
from taxservice.org.models import Staff
from taxservice.workdays.services import clock_recompute_start

# The limits may be empty (None): the hours (the item counts in days) and the handling
# limit (the time limit applies).
NULLABLE = frozenset({"time_limit_hours", "handling_limit_days"})
# What the clocks do not read: a change of it alone moves no due time.
NOT_ON_THE_CLOCK = frozenset({"extension_cap_days"})
MAX_LIMIT = 32767  # a PositiveSmallIntegerField
REASON_MAX = int(ItemLimitChange._meta.get_field("reason").max_length or 500)


def _limit(field: str, value: Any) -> int | None:
    if value in (None, "") and field in NULLABLE:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_LIMIT:
        message = _("Enter a whole number from 0 to %(max)d.") % {"max": MAX_LIMIT}
        raise InvalidInput(message, code="invalid_limit", fields={field: [message]})
    return value


def item_limits_change(
    *, actor: Staff | None, item_id: int, changes: dict[str, Any], reason: str = ""
) -> ItemLimitChange | None:
    """Set the item's time limits named in `changes` (a subset of LIMIT_FIELDS). Writes one
    audit row with the limits before and after and, when a limit the clocks read changed,
    recomputes the item's open tasks after the commit. Returns None when nothing changed."""
    access.require(access.can_edit_calendar, actor)
    unknown = sorted(set(changes) - set(LIMIT_FIELDS))
    if unknown:
        message = _("Not a time limit: %(fields)s.") % {"fields": ", ".join(unknown)}
        raise InvalidInput(message, code="unknown_field", fields={name: [message] for name in unknown})
    wanted = {field: _limit(field, value) for field, value in changes.items()}
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        message = _("At most %(max)d characters.") % {"max": REASON_MAX}
        raise InvalidInput(message, code="reason_too_long", fields={"reason": [message]})

    with transaction.atomic():
        item = Item.objects.select_for_update().filter(pk=item_id).first()
        if item is None:
            raise NotFound(_("No such item."), code="not_found")
        before = {field: getattr(item, field) for field in wanted if getattr(item, field) != wanted[field]}
        if not before:
            return None
        after = {field: wanted[field] for field in before}
        for field, value in after.items():
            setattr(item, field, value)
        item.save(update_fields=sorted(after))
        run = None
        if set(after) - NOT_ON_THE_CLOCK:
            run = clock_recompute_start(
                actor=actor,
                cause=_("Time limits of %(item)s changed") % {"item": f"{item.code} {item.name}"},
                item_code=item.code,
            )
        return ItemLimitChange.objects.create(
            item=item, before=before, after=after, reason=reason, actor=actor, recompute=run
        )

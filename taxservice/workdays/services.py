"""Writes to the working-day calendar: administrators' overrides, and the recomputation of
the open tasks' due times that every change of the calendar or of a time limit starts.

Each change is one transaction: the override row, one `CalendarChange` audit row, and a
`ClockRecompute` row whose job starts once the transaction commits
(`scheduling.start_job(RECOMPUTE_CLOCKS, run_id)`; the job lives in the workflow,
`clocks.recompute`, which this layer does not import). The web page and the API call
these same functions; their errors are `taxservice.errors` types.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from taxservice import access, scheduling
from taxservice.errors import ConcurrentChange, InvalidInput, NotFound
from taxservice.org.models import Staff
from taxservice.workdays.calendar import WorkCalendar
from taxservice.workdays.models import CalendarChange, CalendarOverride, ClockRecompute, DayKind

# The dates an override may name: wide enough for any real arrangement, narrow enough
# that a mistyped year (20026) is refused instead of stored.
FIRST_DATE = dt.date(2000, 1, 1)
LAST_DATE = dt.date(2100, 12, 31)


def _max_length(name: str) -> int:
    field = CalendarOverride._meta.get_field(name)
    assert isinstance(field, models.CharField) and field.max_length is not None
    return field.max_length


REASON_MAX = _max_length("reason")
NAME_MAX = _max_length("name")
DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_date(value: dt.date | str | None, *, field: str = "date") -> dt.date:
    """A date from a `date` or an ISO string (YYYY-MM-DD), inside FIRST_DATE..LAST_DATE."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        raw = value.strip() if isinstance(value, str) else value
        if raw is None or raw == "":
            message = _("Enter a date.")
            raise InvalidInput(message, code="required", fields={field: [message]})
        try:
            # Only the one spelling (Python also reads 20260101 and 2026-W01-1).
            if not isinstance(raw, str) or not DATE_PATTERN.fullmatch(raw):
                raise ValueError(raw)
            value = dt.date.fromisoformat(raw)
        except ValueError:
            message = _("Enter a date as YYYY-MM-DD.")
            raise InvalidInput(message, code="invalid_date", fields={field: [message]}) from None
    if not FIRST_DATE <= value <= LAST_DATE:
        message = _("Enter a date from %(first)s to %(last)s.") % {"first": FIRST_DATE, "last": LAST_DATE}
        raise InvalidInput(message, code="date_out_of_range", fields={field: [message]})
    return value


def _text(value: object) -> str:
    # What a form or a JSON body sent, as text (a number sent for a name is still a name).
    return "" if value is None else str(value).strip()


def _reason(value: str | None) -> str:
    reason = _text(value)
    if not reason:
        message = _("Say why the calendar changes.")
        raise InvalidInput(message, code="reason_required", fields={"reason": [message]})
    if len(reason) > REASON_MAX:
        message = _("At most %(max)d characters.") % {"max": REASON_MAX}
        raise InvalidInput(message, code="reason_too_long", fields={"reason": [message]})
    return reason


def _kind(value: str | None) -> str:
    if not isinstance(value, str) or value not in DayKind.values:
        choices = ", ".join(DayKind.values)
        message = _("Choose one of: %(choices)s.") % {"choices": choices}
        raise InvalidInput(message, code="invalid_kind", fields={"kind": [message]})
    return str(value)


def _name(value: str | None) -> str:
    name = _text(value)
    if len(name) > NAME_MAX:
        message = _("At most %(max)d characters.") % {"max": NAME_MAX}
        raise InvalidInput(message, code="name_too_long", fields={"name": [message]})
    return name


def _checked(*checks: tuple[str, Callable[[Any], Any], Any]) -> list[Any]:
    """Run every field's check, so a form shows all its errors at once; raise them together
    (the first one's code and sentence) or return the clean values in order."""
    values: list[Any] = []
    errors: dict[str, list[str]] = {}
    first: InvalidInput | None = None
    for _field, check, value in checks:
        try:
            values.append(check(value))
        except InvalidInput as error:
            errors.update(error.fields)
            first = first or error
    if first is not None:
        raise InvalidInput(first.detail, code=first.code, fields=errors)
    return values


def calendar_override_set(
    *, actor: Staff, date: dt.date | str | None, kind: str | None, name: str | None = "", reason: str | None
) -> CalendarChange:
    """Declare what `date` is (`kind`, and the holiday's `name`), winning over the package
    and the weekday; replaces the date's earlier override. An override that would leave
    the day as it already is is refused (`nothing_to_change`). Returns the audit row (its
    `recompute` is the recomputation started, if the day's working status flipped)."""
    access.require(access.can_edit_calendar, actor)
    day: dt.date
    day, kind, name, reason = _checked(
        ("date", parse_date, date), ("kind", _kind, kind), ("name", _name, name), ("reason", _reason, reason)
    )
    if kind in (DayKind.WORKDAY, DayKind.WEEKEND) and name:
        message = _("Only a holiday or an adjusted working day has a name.")
        raise InvalidInput(message, code="name_not_allowed", fields={"name": [message]})

    with transaction.atomic():
        existing = CalendarOverride.objects.select_for_update().filter(date=day).first()
        before = WorkCalendar.load().day(day)
        if before.kind == kind and before.name == name:
            message = _("%(date)s is already “%(day)s”: nothing to change.") % {
                "date": day,
                "day": f"{DayKind(kind).label} {name}".strip(),
            }
            raise InvalidInput(message, code="nothing_to_change", fields={"kind": [message]})
        try:
            with transaction.atomic():
                if existing is None:
                    CalendarOverride.objects.create(date=day, kind=kind, name=name, reason=reason, changed_by=actor)
                else:
                    override = existing
                    override.kind, override.name, override.reason, override.changed_by = kind, name, reason, actor
                    override.changed_at = timezone.now()
                    override.save()
        except IntegrityError:  # another administrator created the date's override meanwhile
            raise ConcurrentChange(_("Someone else changed %(date)s just now; look again.") % {"date": day}) from None
        run = _recompute_if_moved(
            actor=actor,
            before_working=before.is_working,
            after_working=kind in (DayKind.WORKDAY, DayKind.ADJUSTED_WORKDAY),
            cause=_("Calendar: %(date)s is now “%(kind)s”") % {"date": day, "kind": DayKind(kind).label},
        )
        return CalendarChange.objects.create(
            date=day,
            before_kind=before.kind,
            after_kind=kind,
            before_name=before.name[:NAME_MAX],
            name=name,
            reason=reason,
            actor=actor,
            recompute=run,
        )


def calendar_override_remove(*, actor: Staff, date: dt.date | str | None, reason: str | None) -> CalendarChange:
    """Remove the date's override: the day goes back to what the package or the weekday says."""
    access.require(access.can_edit_calendar, actor)
    day: dt.date
    day, reason = _checked(("date", parse_date, date), ("reason", _reason, reason))

    with transaction.atomic():
        override = CalendarOverride.objects.select_for_update().filter(date=day).first()
        if override is None:
            message = _("%(date)s has no override to remove.") % {"date": day}
            raise NotFound(message, code="no_override", fields={"date": [message]})
        before = WorkCalendar({day: (override.kind, override.name)}).day(day)
        override.delete()
        after = WorkCalendar({}).day(day)
        run = _recompute_if_moved(
            actor=actor,
            before_working=before.is_working,
            after_working=after.is_working,
            cause=_("Calendar: the override of %(date)s removed") % {"date": day},
        )
        return CalendarChange.objects.create(
            date=day,
            before_kind=before.kind,
            after_kind=after.kind,
            before_name=before.name,
            name=after.name[:NAME_MAX],
            override_removed=True,
            reason=reason,
            actor=actor,
            recompute=run,
        )


def clock_recompute_start(*, actor: Staff | None, cause: str, item_code: str = "") -> ClockRecompute:
    """A recomputation of the open tasks' due times (only `item_code`'s, when given), started
    once the caller's transaction commits. Call inside `transaction.atomic`."""
    run = ClockRecompute.objects.create(cause=cause[:200], requested_by=actor, item_code=item_code)
    scheduling.start_job(scheduling.RECOMPUTE_CLOCKS, run.pk)
    return run


def _recompute_if_moved(
    *, actor: Staff, before_working: bool, after_working: bool, cause: str
) -> ClockRecompute | None:
    # Due times only ask whether a day is worked (its name and whether it is a weekend or
    # a holiday do not count), so a change that keeps that moves no clock.
    if before_working == after_working:
        return None
    return clock_recompute_start(actor=actor, cause=cause)

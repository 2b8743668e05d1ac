"""The transition log as rows people can read: who, what, when, why, and the details."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from taxservice.org.models import Branch, Staff, Team, Tier
from taxservice.workflow.cases import transitions
from taxservice.workflow.cases.models import Channel, Task, TaskState, TaskTransition
from taxservice.workflow.ladder.models import EscalationStep


@dataclass
class HistoryRow:
    at: dt.datetime
    actor: str
    is_system: bool
    step: str
    from_state: str
    to_state: str
    to_state_code: str
    reason: str
    details: list[tuple[str, str]] = field(default_factory=list)
    on_behalf_of: str = ""  # a deputy's step: the branch chief they acted for (shown "X (for Y)")


def history_rows(log: Iterable[TaskTransition]) -> list[HistoryRow]:
    """Readable rows for already-loaded transitions (actor selected), in the order given.

    Team, hall and staff references inside `details` are codes and ids; they are
    resolved with one query per kind for all rows together.
    """
    rows = list(log)
    names = _Names.for_transitions(rows)
    return [
        HistoryRow(
            at=row.at,
            actor=row.actor_label,
            is_system=row.actor_id is None,
            step=transitions.label(row.transition),
            from_state=_state_label(row.from_state),
            to_state=_state_label(row.to_state),
            to_state_code=row.to_state,
            reason=row.reason,
            details=_describe(row.details or {}, names),
            on_behalf_of=_on_behalf_of(row),
        )
        for row in rows
    ]


def _on_behalf_of(row: TaskTransition) -> str:
    """The chief a deputy acted for: the name as logged then (`on_behalf_of_name`)."""
    if row.on_behalf_of_id is None:
        return ""
    return row.on_behalf_of_name or f"#{row.on_behalf_of_id}"


def _state_label(code: str) -> str:
    return str(TaskState(code).label) if code in TaskState.values else code


@dataclass
class _Names:
    teams: dict[str, str]
    halls: dict[str, str]
    staff: dict[int, str]
    steps: dict[str, str]

    @classmethod
    def for_transitions(cls, transitions: list[TaskTransition]) -> _Names:
        team_codes = {
            row.details.get(key)
            for row in transitions
            if isinstance(row.details, dict)
            for key in ("team", "from_team")
        } - {None}
        hall_codes = {row.details.get("hall") for row in transitions if isinstance(row.details, dict)} - {None}
        staff_ids = {row.details.get("from_assignee") for row in transitions if isinstance(row.details, dict)} - {None}
        step_codes = {row.details.get("step") for row in transitions if isinstance(row.details, dict)} - {None}
        return cls(
            steps=dict(EscalationStep.objects.filter(code__in=step_codes).values_list("code", "name"))
            if step_codes
            else {},
            teams=dict(Team.objects.filter(code__in=team_codes).values_list("code", "name")) if team_codes else {},
            halls=dict(Branch.objects.filter(code__in=hall_codes).values_list("code", "name")) if hall_codes else {},
            staff=dict(Staff.objects.filter(pk__in=staff_ids).values_list("pk", "name")) if staff_ids else {},
        )


def _describe(details: dict, names: _Names) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key, value in details.items():
        if value in (None, ""):
            continue
        if key == "result":
            out.append((_("Result"), str(value)))
        elif key == "channel":
            out.append((_("Channel"), _choice_label(Channel, value)))
        elif key == "hall":
            out.append((_("Hall"), names.halls.get(value, str(value))))
        elif key == "tier":
            out.append((_("Tier"), _choice_label(Tier, value)))
        elif key == "team":
            out.append((_("Team"), names.teams.get(value, str(value))))
        elif key == "assignee_name":
            out.append((_("Assignee"), str(value)))
        elif key == "assignee":
            continue  # the id; the name is logged next to it
        elif key == "from_assignee":
            out.append((_("Previous assignee"), names.staff.get(value, str(value))))
        elif key == "paused_seconds":
            out.append((_("Clock paused"), _duration(int(value))))
        elif key == "from_team":
            out.append((_("Previous team"), names.teams.get(value, str(value))))
        elif key == "rule":
            version = details.get("rule_version")
            out.append((_("Routing rule"), f"#{value}" + (f" v{version}" if version else "")))
        elif key == "rule_version":
            continue  # shown with the rule
        elif key == "auto_dispatch":
            out.append((_("Auto-dispatch"), _("yes") if value else _("no")))
        elif key == "source":
            out.append((_("Source"), _choice_label(Task.Source, value)))
        elif key == "intake":
            out.append((_("Intake record"), f"#{value}"))
        elif key == "decision":
            out.append((_("Dispatch decision"), f"#{value}"))
        elif key == "days":
            out.append((_("Working days"), str(value)))
        elif key in ("due_at", "clock_due_at"):
            label = _("Due") if key == "due_at" else _("Running clock due")
            shown = " → ".join(_moment(part) for part in value) if isinstance(value, list) else _moment(value)
            out.append((label, shown))
        elif key == "step":
            out.append((_("Escalation step"), names.steps.get(value, str(value))))
        elif key == "recompute":
            out.append((_("Recomputation"), f"#{value}"))
        elif isinstance(value, bool):
            out.append((str(key), _("yes") if value else _("no")))
        else:
            out.append((str(key), str(value)))
    return out


def _moment(value: object) -> str:
    """An instant logged as ISO text, shown in local time; other text as it is."""
    if value is None:
        return "—"
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return moment.strftime("%Y-%m-%d %H:%M")


def _choice_label(choices: type, value: str) -> str:
    return str(choices(value).label) if value in choices.values else str(value)


def _duration(seconds: int) -> str:
    days, rest = divmod(max(seconds, 0), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return ngettext("%(n)d day", "%(n)d days", days) % {"n": days} + " " + _hours(hours)
    if hours:
        return _hours(hours) + " " + ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
    return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}


def _hours(hours: int) -> str:
    return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}

"""The dispatch decision records of a task, as the task page shows them.

Each record says who ran the pipeline, under which rule version, whom each filter
removed and why, who was eligible with what load, whom the chooser picked, and whether
replaying the record (`routing.dispatch.replay`) picks the same person.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from taxservice.org.models import Staff
from taxservice.web.labels import filter_label
from taxservice.workflow.cases.models import Task
from taxservice.workflow.routing import dispatch
from taxservice.workflow.routing.dispatch import replay
from taxservice.workflow.routing.models import DispatchDecision

# The pipeline stores why a filter removed someone as a code with values
# (routing.dispatch.REASON_*); these give the sentence in the reader's language.
_REASONS = {
    dispatch.REASON_NO_HANDLING_ROLE: gettext_lazy("no handling role in the team"),
    dispatch.REASON_OFF_DUTY: gettext_lazy("not on duty"),
    dispatch.REASON_ON_LEAVE: gettext_lazy("on leave until %(until)s"),
    dispatch.REASON_OUTSIDE_HOURS: gettext_lazy("outside working hours"),
    dispatch.REASON_AT_CAPACITY: gettext_lazy("at capacity (%(load)s/%(capacity)s)"),
    dispatch.REASON_CONFLICT: gettext_lazy("conflict of interest: %(reason)s"),
    dispatch.REASON_HANDLED_LAST: gettext_lazy("handled this taxpayer's item last time"),
}


def removal_reason(row: dict) -> str:
    """One removed row's reason. A code the screens do not know is shown as it is."""
    template = _REASONS.get(row.get("code", ""))
    if template is None:
        return str(row.get("reason") or row.get("code") or "")
    try:
        return str(template) % row
    except (KeyError, TypeError, ValueError):
        return str(template)


@dataclass
class RemovedRow:
    name: str
    filter: str
    reason: str


@dataclass
class DecisionRecord:
    decision: DispatchDecision
    at: dt.datetime
    actor: str
    is_robot: bool
    rule: str
    rule_version: int | None
    rule_is_current: bool
    team: str
    chooser: str
    chooser_state: str
    seed: int | None
    candidates: list[str]
    removed: list[RemovedRow]
    eligible: list[tuple[str, int]]
    chosen: str
    outcome: str
    outcome_code: str
    replayed: str
    replay_matches: bool
    removed_by_filter: list[tuple[str, int]] = field(default_factory=list)


def decision_records(*, task: Task) -> list[DecisionRecord]:
    """Every decision of the task, newest first. Two queries whatever their number."""
    decisions = list(
        DispatchDecision.objects.filter(task=task)
        .select_related("actor", "rule", "team", "chosen")
        .order_by("-at", "-id")
    )
    staff_ids = set()
    for decision in decisions:
        staff_ids.update(decision.candidates or [])
        staff_ids.update(decision.eligible or [])
        staff_ids.update(v for v in (decision.chooser_state or {}).values() if isinstance(v, int))
        replayed = replay(decision)
        decision.replayed_id = replayed
        if replayed is not None:
            staff_ids.add(replayed)
    names = dict(Staff.objects.filter(pk__in=staff_ids).values_list("pk", "name")) if staff_ids else {}

    def name(pk: int | None) -> str:
        return "—" if pk is None else names.get(pk, f"#{pk}")

    records = []
    for d in decisions:
        removed = [
            RemovedRow(
                name=row.get("name") or name(row.get("staff")),
                filter=filter_label(row.get("filter", "")),
                reason=removal_reason(row),
            )
            for row in d.removed or []
        ]
        counts: dict[str, int] = {}
        for row in removed:
            counts[row.filter] = counts.get(row.filter, 0) + 1
        last = (d.chooser_state or {}).get("last")
        records.append(
            DecisionRecord(
                decision=d,
                at=d.at,
                actor=d.actor.name if d.actor_id else _("Robot"),
                is_robot=d.actor_id is None,
                rule=d.rule.name if d.rule_id else _("No rule"),
                rule_version=d.rule_version,
                rule_is_current=d.rule_id is None or d.rule.version == d.rule_version,
                team=d.team.name if d.team_id else "—",
                chooser=d.get_chooser_display(),
                chooser_state=(_("last chosen: %(name)s") % {"name": name(last)}) if last else "",
                seed=d.seed,
                candidates=[name(pk) for pk in d.candidates or []],
                removed=removed,
                eligible=[(name(pk), (d.loads or {}).get(str(pk), 0)) for pk in d.eligible or []],
                chosen=d.chosen.name if d.chosen_id else "—",
                outcome=d.get_outcome_display(),
                outcome_code=d.outcome,
                replayed=name(d.replayed_id),
                replay_matches=d.replayed_id == d.chosen_id,
                removed_by_filter=list(counts.items()),
            )
        )
    return records

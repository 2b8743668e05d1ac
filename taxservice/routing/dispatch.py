"""The dispatch pipeline: filters narrow a team to eligible people, then a chooser picks one.

`run_pipeline` reads what it needs in a handful of queries and returns a plain result
that the service stores as a DispatchDecision. `choose` is a pure function of the stored
inputs, so `replay(decision)` gives the same assignee for any recorded decision.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from taxservice.cases.models import Task, TaskAssignment, TaskState
from taxservice.org.models import Role, Staff, Team
from taxservice.routing.models import Chooser, DispatchDecision, StaffConflict, StaffLeave

# States in which a task counts against its assignee's capacity.
LOAD_STATES = [TaskState.ASSIGNED, TaskState.IN_PROGRESS, TaskState.AWAITING_MATERIALS, TaskState.AWAITING_APPROVAL]
HANDLING_ROLES = (Role.TEAM_MEMBER, Role.EXPERT)


@dataclass
class PipelineResult:
    candidates: list[int]
    removed: list[dict] = field(default_factory=list)
    eligible: list[int] = field(default_factory=list)
    loads: dict[str, int] = field(default_factory=dict)
    chooser: str = Chooser.RANDOM
    chooser_state: dict = field(default_factory=dict)
    seed: int | None = None
    chosen_id: int | None = None


def working_hours() -> tuple[dt.time, dt.time] | None:
    """TAXSERVICE_WORKING_HOURS, e.g. "08:30-17:30"; empty means staff on duty are always available."""
    raw = getattr(settings, "TAXSERVICE_WORKING_HOURS", "")
    if not raw:
        return None
    start, end = raw.split("-")
    return dt.time.fromisoformat(start.strip()), dt.time.fromisoformat(end.strip())


def within_working_hours(now: dt.datetime) -> bool:
    hours = working_hours()
    if hours is None:
        return True
    local = timezone.localtime(now)
    return local.weekday() < 5 and hours[0] <= local.time() < hours[1]


def staff_loads(staff_ids: list[int]) -> dict[int, int]:
    rows = (
        Task.objects.filter(assignee_id__in=staff_ids, state__in=LOAD_STATES)
        .values("assignee_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    loads = dict.fromkeys(staff_ids, 0)
    loads.update({row["assignee_id"]: row["n"] for row in rows})
    return loads


def run_pipeline(
    *, task: Task, team: Team, filters: list[str], chooser: str, seed: int | None, now: dt.datetime, chooser_state: dict
) -> PipelineResult:
    members = list(Staff.objects.filter(teams=team).prefetch_related("role_rows").order_by("pk"))
    result = PipelineResult(candidates=[m.pk for m in members], chooser=chooser, seed=seed, chooser_state=chooser_state)
    alive = members

    def keep(predicate, filter_name: str, reason_of) -> None:  # noqa: ANN001
        nonlocal alive
        kept = []
        for staff in alive:
            if predicate(staff):
                kept.append(staff)
            else:
                result.removed.append(
                    {"staff": staff.pk, "name": staff.name, "filter": filter_name, "reason": reason_of(staff)}
                )
        alive = kept

    if "membership" in filters:
        keep(lambda s: s.has_role(*HANDLING_ROLES), "membership", lambda s: "no handling role in the team")
    if "on_duty" in filters:
        today = timezone.localdate(now)
        on_leave = dict(
            StaffLeave.objects.filter(staff__in=alive, starts_on__lte=today, ends_on__gte=today).values_list(
                "staff_id", "ends_on"
            )
        )
        in_hours = within_working_hours(now)
        keep(lambda s: s.on_duty, "on_duty", lambda s: "not on duty")
        keep(lambda s: s.pk not in on_leave, "on_duty", lambda s: f"on leave until {on_leave[s.pk]}")
        keep(lambda s: in_hours, "on_duty", lambda s: "outside working hours")
    loads = staff_loads([s.pk for s in alive])
    if "capacity" in filters:
        keep(lambda s: loads[s.pk] < s.capacity, "capacity", lambda s: f"at capacity ({loads[s.pk]}/{s.capacity})")
    if "conflict" in filters:
        conflicts = dict(
            StaffConflict.objects.filter(taxpayer_id=task.taxpayer_id, staff__in=alive).values_list("staff_id", "reason")
        )
        keep(lambda s: s.pk not in conflicts, "conflict", lambda s: f"conflict of interest: {conflicts[s.pk]}")
    if "rotation" in filters and len(alive) > 1:
        last = (
            TaskAssignment.objects.filter(task__taxpayer_id=task.taxpayer_id, task__item_id=task.item_id)
            .exclude(task_id=task.pk)
            .order_by("-assigned_at", "-id")
            .values_list("staff_id", flat=True)
            .first()
        )
        keep(lambda s: s.pk != last, "rotation", lambda s: "handled this taxpayer's item last time")
    result.eligible = [s.pk for s in alive]
    result.loads = {str(s.pk): loads[s.pk] for s in alive}
    result.chosen_id = choose(
        chooser=chooser, eligible=result.eligible, loads=result.loads, seed=seed, state=chooser_state
    )
    return result


def choose(*, chooser: str, eligible: list[int], loads: dict[str, int], seed: int | None, state: dict) -> int | None:
    """Pick one of `eligible` (staff ids in ascending order). Deterministic in its inputs."""
    if not eligible:
        return None
    if chooser == Chooser.LEAST_LOADED:
        return min(eligible, key=lambda pk: (loads.get(str(pk), 0), pk))
    if chooser == Chooser.ROUND_ROBIN:
        last = state.get("last")
        after = [pk for pk in eligible if last is None or pk > last]
        return (after or eligible)[0]
    return random.Random(seed).choice(eligible)  # noqa: S311 - fairness, not secrecy


def replay(decision: DispatchDecision) -> int | None:
    """The assignee the recorded inputs give: equal to `decision.chosen_id` for any honest record."""
    return choose(
        chooser=decision.chooser,
        eligible=list(decision.eligible),
        loads=dict(decision.loads),
        seed=decision.seed,
        state=dict(decision.chooser_state),
    )


def round_robin_state(team: Team) -> dict:
    last = (
        DispatchDecision.objects.filter(team=team, chosen__isnull=False)
        .order_by("-at", "-id")
        .values_list("chosen_id", flat=True)
        .first()
    )
    return {"last": last}

"""Small reads the pages need on top of the core selectors."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.paginator import Page
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest
from django.utils.translation import gettext

from taxservice import access
from taxservice.org.models import Staff, StaffRole, Team, Tier
from taxservice.pagination import IdFirstPaginator
from taxservice.web.deadlines import attach_deadlines
from taxservice.web.forms import AssigneeChoices, PeopleGroup, Person, TransitionForm
from taxservice.workflow.cases import selectors
from taxservice.workflow.cases.models import OPEN_STATES, Case, Task, TaskState, TaskTransition
from taxservice.workflow.cases.transitions import ONE_CLICK_STEPS

PAGE_SIZE = 25
# The approver's steps that send a task back to its holder (Task.sent_back says which).
SENT_BACK_STEPS = ("reject", "send_back")


def paginate(request: HttpRequest, queryset: QuerySet) -> Page:
    return IdFirstPaginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def my_open_tasks(*, staff: Staff) -> QuerySet[Task]:
    """Open tasks I hold, the earliest due first, each with its latest step (`with_latest_step`)."""
    return with_latest_step(
        Task.objects.select_related(*selectors.TASK_RELATED)
        .filter(assignee=staff, state__in=OPEN_STATES)
        .order_by("due_at", "id")
    )


def _latest(field: str) -> Subquery:
    # The last row of the task's log: served by transition_task_at_idx (task, at).
    log = TaskTransition.objects.filter(task=OuterRef("pk")).order_by("-at", "-id")
    return Subquery(log.values(field)[:1])


def with_latest_step(tasks: QuerySet[Task]) -> QuerySet[Task]:
    """Annotate each task with its latest step in the same query: `last_step` (the
    transition's name), `last_reason`, `last_actor_name` and `last_at`. A task whose
    `last_step` is "reject" was sent back by its approver and has not moved on since."""
    return tasks.annotate(
        last_step=_latest("transition"),
        last_reason=_latest("reason"),
        last_actor_name=_latest("actor__name"),
        last_at=_latest("at"),
    )


@dataclass(frozen=True)
class SentBack:
    """The approver's rejection a task is still on: who, when and their opinion."""

    by: str
    at: dt.datetime
    reason: str


def sent_back(*, task: Task) -> SentBack | None:
    """The opinion the task was sent back with (rejected, or returned for more work), while
    it is still sent back (`Task.sent_back`, cleared when the holder submits again)."""
    if not task.sent_back:
        return None
    row = (
        TaskTransition.objects.filter(task=task, transition__in=SENT_BACK_STEPS)
        .order_by("-at", "-id")
        .values("reason", "actor__name", "at")
        .first()
    )
    if row is None:
        return None
    return SentBack(by=row["actor__name"] or "", at=row["at"], reason=row["reason"])


def queue_for_staff(*, staff: Staff) -> QuerySet[Task]:
    """Queued tasks the staff member may see, and the ones their teams are working on."""
    return selectors.task_list_for_staff(staff=staff).filter(
        Q(state=TaskState.QUEUED)
        | Q(state__in=[TaskState.ASSIGNED, TaskState.IN_PROGRESS], team_id__in=access.staff_team_ids(staff))
    )


def awaiting_approval_for_staff(*, staff: Staff) -> QuerySet[Task]:
    """Work awaiting approval that the staff member may see, the most urgent first: the
    running internal clock's due time, then the promise's (`clock_due_at`, `due_at`).

    Each task carries `submitted_at`: when it was last submitted for approval (the time
    waited runs from there), read in the same query as `with_latest_step` reads the last
    step. The four-eyes reads are prefetched (`selectors.DECISION_PREFETCH`)."""
    submitted = TaskTransition.objects.filter(task=OuterRef("pk"), transition="submit_for_approval").order_by(
        "-at", "-id"
    )
    return (
        selectors.task_list_for_staff(staff=staff)
        .filter(state=TaskState.AWAITING_APPROVAL)
        .annotate(submitted_at=Subquery(submitted.values("at")[:1]))
        .prefetch_related(*selectors.DECISION_PREFETCH)
        .order_by(F("clock_due_at").asc(nulls_last=True), "due_at", "id")
    )


def decidable_approvals_for_staff(*, staff: Staff) -> list[Task]:
    """The tasks awaiting approval that `staff` may decide now (`approve` allowed for them:
    state, step, four eyes, delegation), in `awaiting_approval_for_staff`'s order. The
    four-eyes rule reads each task's log, so this reads the visible queue once (three
    queries) and keeps the decidable rows."""
    tasks = list(awaiting_approval_for_staff(staff=staff))
    return [task for task in tasks if "approve" in selectors.allowed_transitions(staff=staff, task=task)]


def extension_requests_for_staff(*, staff: Staff) -> QuerySet[Task]:
    """Tasks whose extension request waits for a decision, the earliest due first."""
    return with_latest_step(
        selectors.task_list_for_staff(staff=staff)
        .filter(extension_requested_days__isnull=False, state__in=OPEN_STATES)
        .prefetch_related(*selectors.DECISION_PREFETCH)
        .order_by("due_at", "id")
    )


def queued_for_staff(*, staff: Staff) -> QuerySet[Task]:
    """The queue page filtered to `?state=queued`: what waits there to be taken on."""
    return queue_for_staff(staff=staff).filter(state=TaskState.QUEUED)


def open_cases_for_staff(*, staff: Staff) -> QuerySet[Case]:
    """The case list filtered to `?state=open`."""
    return selectors.case_list_for_staff(staff=staff).filter(state=Case.State.OPEN)


@dataclass
class HomeCounts:
    """The home page's cards. Each count is the length of the list its card links to,
    counted on the same queryset as that list (tests/test_my_tasks_and_home.py holds them
    together); None where the card is not shown."""

    my_open: int
    team_queue: int | None
    approvals: int | None
    open_cases: int | None


def home_counts(*, staff: Staff) -> HomeCounts:
    return HomeCounts(
        my_open=my_open_tasks(staff=staff).count(),
        team_queue=queued_for_staff(staff=staff).count() if access.can_use_queue(staff) else None,
        approvals=awaiting_approval_for_staff(staff=staff).count() if access.can_use_approvals(staff) else None,
        open_cases=open_cases_for_staff(staff=staff).count() if access.can_use_front_desk(staff) else None,
    )


def assignee_choices(*, staff: Staff, task: Task) -> AssigneeChoices | None:
    """Whom a supervisor may hand the task to; None for everyone else, who can only take a
    task themselves.

    Only people the service would accept (`_resolve_assignee` in cases/services.py: a member
    of the task's team, on duty) and who hold tasks (`access.HANDLERS`), grouped by team:
    the task's team, or for a task at the coordination post (or with no team) every team
    outside the front desk. The off-duty ones are listed, marked and not choosable.
    """
    if not access.can_assign_others(staff):
        return None
    at_post = task.team_id is None or task.team.kind == Team.Kind.COORDINATION_POST
    teams = Team.objects.exclude(tier=Tier.FRONT) if at_post else Team.objects.filter(pk=task.team_id)
    in_team = at_post or task.team_id in access.staff_team_ids(staff)
    return AssigneeChoices(groups=people_by_team(teams=teams), myself=staff.on_duty and in_team)


def people_by_team(*, teams: QuerySet[Team] | list[Team]) -> list[PeopleGroup]:
    """The handlers (`access.HANDLERS`) of these teams, a group per team (by tier and code),
    on duty first, each shown as "name · team (open/capacity)". One query."""
    memberships = (
        Staff.teams.through.objects.filter(
            team__in=teams, staff__in=StaffRole.objects.filter(role__in=access.HANDLERS).values("staff_id")
        )
        .select_related("staff", "team")
        .order_by("team__name", "team_id", "-staff__on_duty", "staff__name", "staff_id")
    )
    groups: dict[Team, PeopleGroup] = {}
    for row in memberships:
        person, team = row.staff, row.team
        label = f"{person.name} · {team.name} ({person.open_tasks}/{person.capacity})"
        if not person.on_duty:
            label = f"{label} · {gettext('off duty')}"
        group = groups.setdefault(team, PeopleGroup(team=f"{team.name} · {team.get_tier_display()}", people=[]))
        group.people.append(Person(pk=person.pk, label=label, on_duty=person.on_duty))
    tiers = list(Tier.values)
    return [groups[team] for team in sorted(groups, key=lambda team: (tiers.index(team.tier), team.code))]


def attach_actions(*, staff: Staff, tasks: list[Task]) -> list[Task]:
    """Give each task `allowed` (step names) and `quick` (one-click forms), with no queries."""
    my_teams = access.staff_team_ids(staff)
    attach_deadlines(tasks)
    for task in tasks:
        task.allowed = selectors.allowed_transitions(staff=staff, task=task)
        # "Assign to me" in one click only where I may hold the task: my team's task or
        # one at the coordination post. A supervisor names someone on the task page.
        takes_it = task.team_id is None or task.team_id in my_teams or task.team.kind == Team.Kind.COORDINATION_POST
        one_click = [step for step in ONE_CLICK_STEPS if step in task.allowed and (step != "assign" or takes_it)]
        task.quick = [TransitionForm(step=step, task=task) for step in one_click]
        task.has_more_steps = any(step not in one_click for step in task.allowed)
    return tasks


def team_choices() -> list[Team]:
    """Teams a coordinator may send a queued task to: every team outside the front desk."""
    return list(Team.objects.exclude(tier=Tier.FRONT).order_by("tier", "name"))

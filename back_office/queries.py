"""The chief's desk's reads: the branch's open work and its figures.

`desk_tasks` is the one queryset behind the desk: its task list filters it with
`web.filters.DESK_FILTERS`, and every figure of the summary is counted on it with the same
filters' conditions (`filters.due_filter` for overdue and at risk), so a figure and the
list it links to always agree. The summary is a fixed number of aggregate queries,
whatever the number of tasks: no task row is read into Python.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Count, QuerySet
from django.urls import reverse
from django.utils import timezone

from taxservice import access
from taxservice.org.models import Staff, StaffRole, Team
from taxservice.web.filters import AT_RISK, NOBODY, due_filter
from taxservice.web.forms import AssigneeChoices, PeopleGroup
from taxservice.web.queries import people_by_team
from taxservice.workflow.cases import selectors
from taxservice.workflow.cases.models import OPEN_STATES, Task, TaskState

OVERDUE = "overdue"


def desk_tasks(*, staff: Staff) -> QuerySet[Task]:
    """The open tasks of the teams of the desk's branches (`access.desk_branch_ids`), as the
    staff member may see them, the earliest due first."""
    tasks = selectors.task_list_for_staff(staff=staff).filter(state__in=OPEN_STATES, team__isnull=False)
    branches = access.desk_branch_ids(staff)
    if branches is not None:
        tasks = tasks.filter(team__branch_id__in=branches)
    return tasks.order_by("due_at", "id")


def desk_teams(*, staff: Staff) -> QuerySet[Team]:
    """The teams of the desk's branches (the middle office's and the front desk's excluded)."""
    branches = access.desk_branch_ids(staff)
    teams = Team.objects.select_related("branch").order_by("branch__code", "code")
    return teams if branches is None else teams.filter(branch_id__in=branches)


@dataclass
class Figure:
    """One row of the summary: its label, its open/overdue/at-risk counts, and the filters
    (`params`) of the task list each count links to."""

    key: str
    label: str
    params: dict[str, str]
    open: int = 0
    overdue: int = 0
    at_risk: int = 0
    extra: dict = field(default_factory=dict)

    def link(self, due: str = "") -> str:
        params = dict(self.params)
        if due:
            params["due"] = due
        return reverse("back_office:desk_tasks") + ("?" + urlencode(params) if params else "")

    @property
    def open_link(self) -> str:
        return self.link()

    @property
    def overdue_link(self) -> str:
        return self.link(OVERDUE)

    @property
    def at_risk_link(self) -> str:
        return self.link(AT_RISK)


@dataclass
class DeskSummary:
    total: Figure
    by_team: list[Figure]
    by_person: list[Figure]
    by_state: list[Figure]


def _counts(now: dt.datetime) -> dict[str, Count]:
    return {
        "n": Count("id"),
        "n_overdue": Count("id", filter=due_filter(OVERDUE, now)),
        "n_at_risk": Count("id", filter=due_filter(AT_RISK, now)),
    }


def _fill(figure: Figure, row: dict) -> Figure:
    figure.open, figure.overdue, figure.at_risk = row["n"], row["n_overdue"], row["n_at_risk"]
    return figure


def desk_summary(*, staff: Staff, now: dt.datetime | None = None) -> DeskSummary:
    """The branch's open work by team, person and state, with overdue and at-risk counts.

    Five queries: the totals, one GROUP BY per dimension, and the branch's teams and
    handlers (so a team or a person with nothing open is listed with zeros: the people
    with room are whom a rebalance moves work to)."""
    now = now or timezone.now()
    tasks = desk_tasks(staff=staff).order_by()
    counts = _counts(now)
    total = _fill(Figure(key="all", label="", params={}), tasks.aggregate(**counts))

    by_team: dict[int, Figure] = {
        team.pk: Figure(key=team.code, label=team.name, params={"team": team.code}, extra={"team": team})
        for team in desk_teams(staff=staff)
    }
    for row in tasks.values("team_id").annotate(**counts):
        if row["team_id"] in by_team:
            _fill(by_team[row["team_id"]], row)

    people: dict[int | None, Figure] = {}
    handlers = StaffRole.objects.filter(role__in=access.HANDLERS).values("staff_id")
    members = Staff.objects.filter(pk__in=handlers, teams__in=desk_teams(staff=staff).values("pk")).distinct()
    for person in members.select_related("user").order_by("name", "pk"):
        people[person.pk] = _person(person.pk, person.name, person.user.username, person)
    person_rows = tasks.values(
        "assignee_id",
        "assignee__name",
        "assignee__user__username",
        "assignee__open_tasks",
        "assignee__capacity",
        "assignee__on_duty",
    ).annotate(**counts)
    for row in person_rows:
        pk = row["assignee_id"]
        if pk not in people:
            load = {key: row[f"assignee__{key}"] for key in ("open_tasks", "capacity", "on_duty")}
            people[pk] = _person(pk, row["assignee__name"], row["assignee__user__username"], load)
        _fill(people[pk], row)
    by_person = sorted(people.values(), key=lambda figure: (figure.key == NOBODY, -figure.open, figure.label))

    by_state = {
        state: Figure(key=state.value, label=str(state.label), params={"state": state.value}) for state in OPEN_STATES
    }
    for row in tasks.values("state").annotate(**counts):
        _fill(by_state[TaskState(row["state"])], row)
    return DeskSummary(
        total=total, by_team=list(by_team.values()), by_person=by_person, by_state=list(by_state.values())
    )


def _person(pk: int | None, name: str | None, username: str | None, load) -> Figure:
    if pk is None:
        return Figure(key=NOBODY, label="", params={"assignee": NOBODY}, extra={"nobody": True})
    if isinstance(load, Staff):
        load = {"open_tasks": load.open_tasks, "capacity": load.capacity, "on_duty": load.on_duty}
    capacity = load["capacity"] or 0
    return Figure(
        key=username or str(pk),
        label=name or "",
        params={"assignee": username or ""},
        extra={
            **load,
            "pk": pk,
            # The load bar's width in twentieths: a `bar-N` class (no inline style under the CSP).
            "bar": min(20, round(20 * load["open_tasks"] / capacity)) if capacity else 20,
        },
    )


def desk_assignees(*, tasks: list[Task]) -> dict[int, AssigneeChoices]:
    """For each task's team, whom the desk may hand its tasks to: the team's handlers as the
    task page offers them (`web.queries.people_by_team`, one query for the page), never the
    chief by default (`myself` is False: the choice starts blank and is required)."""
    teams = {task.team for task in tasks if task.team is not None}
    if not teams:
        return {}
    groups = people_by_team(teams=list(teams))
    by_label: dict[str, PeopleGroup] = {group.team: group for group in groups}
    choices: dict[int, AssigneeChoices] = {}
    for team in teams:
        group = by_label.get(f"{team.name} · {team.get_tier_display()}")
        choices[team.pk] = AssigneeChoices(groups=[group] if group else [], myself=False)
    return choices


def desk_deputy_candidates(*, chief: Staff) -> QuerySet[Staff]:
    """Whom a chief may name as deputy: staff of their branch scope, not themselves."""
    return (
        Staff.objects.filter(home_branch_id__in=access.staff_branch_scope(chief))
        .exclude(pk=chief.pk)
        .order_by("name", "pk")
    )

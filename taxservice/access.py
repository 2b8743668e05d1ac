"""Who may do what: every role rule of the product, written once.

- **Named predicates** (`can_open_case(staff)`, `can_use_hub(staff)`, …) are the only place
  a tuple of roles is spelled out. Services refuse with `require(can_x, staff)`
  (ActionForbidden with the rule's sentence); pages use `staff_page(can_x)`; the
  navigation, the templates (`access` in every page's context) and the API ask the same
  predicates.
- **Task visibility** is one definition, `_visibility_terms`, that yields both the
  predicate `can_see_task(staff, task)` and the queryset filter `visible_tasks_q(staff)`;
  `tests/test_access.py` checks over the demo city that both agree for every staff member
  and every task. Case visibility derives from it.
- Which transitions each role may make lives in the transition specs
  (`taxservice/workflow/cases/transitions.py`), built from the role sets named here.

Pure: beyond the staff member's cached roles, teams and branch scope, nothing is queried
(a grid's rules read the loaded grid passed in).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from taxservice.errors import ActionForbidden
from taxservice.org.models import Delegation, Role, Staff, Team

R = Role

# Accounts that only other platforms use: they call the API and never sign in to the pages.
API_ONLY = frozenset({R.INTEGRATOR})
# The roles that hold and work tasks, and the supervisors who may step in for them.
HANDLERS = frozenset({R.TEAM_MEMBER, R.EXPERT})
SUPERVISORS = frozenset({R.COORDINATOR, R.BRANCH_CHIEF})
WORKERS = HANDLERS | SUPERVISORS
# Who decides approvals: a team lead the first step of a two-step approval (their own
# teams' tasks), a branch chief or coordinator the last (workflow.cases.policy).
APPROVERS = frozenset({R.TEAM_LEAD, R.BRANCH_CHIEF, R.COORDINATOR})
# The decisions only a branch chief (or their deputy) takes at the final step.
FINAL_APPROVERS = frozenset({R.BRANCH_CHIEF, R.COORDINATOR})


@dataclass(frozen=True)
class Rule:
    """A named predicate: the staff member holds one of `roles`. `refusal` says why not."""

    name: str
    roles: frozenset[str]
    refusal: Promise

    def __call__(self, staff: Staff | None) -> bool:
        return staff is not None and staff.has_role(*self.roles)


def _rule(name: str, roles: set[str], refusal: Promise) -> Rule:
    return Rule(name=name, roles=frozenset(roles), refusal=refusal)


# --- the screens ------------------------------------------------------------------------
can_use_front_desk = _rule("can_use_front_desk", {R.CLERK, R.ADMIN}, _("Only front-desk clerks work at the counter."))
can_use_queue = _rule(
    "can_use_queue", {R.COORDINATOR, *HANDLERS, R.ADMIN}, _("Only coordinators and team members work the queues.")
)
can_use_hub = _rule("can_use_hub", {R.COORDINATOR, R.ADMIN}, _("Only coordinators use the coordination hub."))
can_see_notices = _rule(
    "can_see_notices",
    {R.COORDINATOR, R.BRANCH_CHIEF, R.ADMIN},
    _("Only coordinators, branch chiefs and administrators see the public notice list (通报)."),
)

# --- the writes outside the task life cycle ------------------------------------------------
can_open_case = _rule(
    "can_open_case", {R.CLERK, R.INTEGRATOR, R.COORDINATOR, R.ADMIN}, _("Your roles do not allow opening cases.")
)
can_register_taxpayer = _rule(
    "can_register_taxpayer",
    {R.CLERK, R.COORDINATOR, R.INTEGRATOR, R.ADMIN},
    _("Your roles do not allow registering taxpayers."),
)
can_push_tasks = _rule(
    "can_push_tasks", {R.INTEGRATOR, R.COORDINATOR, R.ADMIN}, _("Your roles do not allow pushing tasks into the hub.")
)
can_dispatch = _rule(
    "can_dispatch", {R.COORDINATOR, R.BRANCH_CHIEF, R.ADMIN}, _("Only coordinators and branch chiefs dispatch tasks.")
)
can_pause_robot = _rule("can_pause_robot", {R.COORDINATOR, R.ADMIN}, _("Only coordinators pause or resume the robot."))
can_edit_rules = _rule(
    "can_edit_rules", {R.COORDINATOR, R.ADMIN}, _("Only coordinators and administrators edit routing rules.")
)
can_upload_tasks = _rule("can_upload_tasks", {R.COORDINATOR, R.ADMIN}, _("Only coordinators upload tasks."))
can_set_others_duty = _rule(
    "can_set_others_duty",
    {R.COORDINATOR, R.BRANCH_CHIEF, R.ADMIN},
    _("Only coordinators and branch chiefs change someone else's duty."),
)
can_edit_calendar = _rule(
    "can_edit_calendar", {R.ADMIN}, _("Only administrators change the working-day calendar and the time limits.")
)
can_decide_extensions = _rule("can_decide_extensions", {R.BRANCH_CHIEF}, _("Only branch chiefs decide on extensions."))
# Grids (网格): assigning taxpayers to grids, importing assignments, applying the grid rules;
# creating grid tasks for a selection of taxpayers. Branch chiefs assign within their
# branch scope only (`may_manage_grid`).
can_assign_grids = _rule(
    "can_assign_grids",
    {R.COORDINATOR, R.BRANCH_CHIEF, R.ADMIN},
    _("Only coordinators, branch chiefs and administrators assign taxpayers to grids."),
)
can_apply_grid_rules = _rule(
    "can_apply_grid_rules", {R.COORDINATOR, R.ADMIN}, _("Only coordinators and administrators apply the grid rules.")
)
can_create_grid_tasks = _rule(
    "can_create_grid_tasks", {R.COORDINATOR, R.ADMIN}, _("Only coordinators and administrators create grid tasks.")
)
# The closing loop (docs/quality-loop.md): the taxpayer's rating and return visits are
# recorded by those who take the taxpayer's contacts; quality inspectors draw and score the
# weekly sample; supervisors and inspectors follow the rectifications.
can_record_rating = _rule(
    "can_record_rating",
    {R.CLERK, R.INTEGRATOR, R.COORDINATOR, R.ADMIN},
    _("Only front-desk clerks, coordinators and integrators record ratings and return visits."),
)
can_inspect_quality = _rule(
    "can_inspect_quality",
    {R.QUALITY_INSPECTOR, R.ADMIN},
    _("Only quality inspectors draw and score the inspection sample."),
)
can_see_rectifications = _rule(
    "can_see_rectifications",
    {R.QUALITY_INSPECTOR, R.BRANCH_CHIEF, R.COORDINATOR, R.ADMIN},
    _("Only quality inspectors, branch chiefs and coordinators see the rectification list."),
)
# Naming someone other than oneself as a task's holder.
can_assign_others = _rule(
    "can_assign_others",
    {*SUPERVISORS, R.ADMIN},
    _("Only coordinators and branch chiefs may assign a task to someone else."),
)
# Stepping in for a task's holder (accepting, completing, returning on their behalf).
is_supervisor = _rule("is_supervisor", set(SUPERVISORS), _("Only the assignee may do this."))
is_admin = _rule("is_admin", {R.ADMIN}, _("Only administrators may do this."))
# Webhook subscriptions (docs/outbox-and-webhooks.md): integrators and administrators, each
# their own.
can_use_webhooks = _rule(
    "can_use_webhooks", {R.INTEGRATOR, R.ADMIN}, _("Only integrators and administrators subscribe to webhooks.")
)


def can_use_web(staff: Staff | None) -> bool:
    """Anyone with a staff record and a role beyond the API-only ones may sign in to the pages."""
    return staff is not None and bool(staff.roles - API_ONLY)


WEB_REFUSAL = _("This account is for the API only; it cannot sign in to the pages.")


@dataclass(frozen=True)
class GridMembershipRule(Rule):
    """A rule whose roles admit, and so does membership of a grid service group (grid staff)."""

    def __call__(self, staff: Staff | None) -> bool:
        return staff is not None and (staff.has_role(*self.roles) or bool(staff_grid_team_ids(staff)))


# Grid overviews: grid staff (their own grids), branch chiefs (their branch scope),
# coordinators, quality inspectors and administrators (every grid): see `may_see_grid`.
can_see_grids = GridMembershipRule(
    name="can_see_grids",
    roles=frozenset({R.COORDINATOR, R.BRANCH_CHIEF, R.QUALITY_INSPECTOR, R.ADMIN}),
    refusal=_("Only grid staff, branch chiefs and coordinators see the grids."),
)


def acting_for(staff: Staff) -> tuple[Staff, ...]:
    """The branch chiefs whose decisions `staff` may take now, as their deputy (org.Delegation:
    running, not revoked). One query, cached on the instance."""
    cached = getattr(staff, "_acting_for_cache", None)
    if cached is None:
        now = timezone.now()
        rows = (
            Delegation.objects.filter(deputy=staff, revoked_at__isnull=True, starts_at__lte=now, ends_at__gt=now)
            .select_related("chief__home_branch")
            .prefetch_related("chief__role_rows", "chief__teams")
        )
        cached = tuple(row.chief for row in rows if row.chief.has_role(R.BRANCH_CHIEF))
        staff._acting_for_cache = cached  # type: ignore[attr-defined]  # a per-instance cache
    return cached


@dataclass(frozen=True)
class DeputyRule(Rule):
    """A rule whose roles admit, and so does deputising for a branch chief right now."""

    def __call__(self, staff: Staff | None) -> bool:
        return staff is not None and (staff.has_role(*self.roles) or bool(acting_for(staff)))


can_use_approvals = DeputyRule(
    name="can_use_approvals",
    roles=frozenset({R.BRANCH_CHIEF, R.COORDINATOR, R.TEAM_LEAD, R.ADMIN}),
    refusal=_("Only branch chiefs, their deputies, team leads and coordinators approve."),
)
# Naming a deputy: a branch chief for themselves; an administrator for any chief.
can_delegate = _rule("can_delegate", {R.BRANCH_CHIEF, R.ADMIN}, _("Only branch chiefs name a deputy."))


def coordination_team_ids(staff: Staff) -> frozenset[int]:
    """The staff member's teams of the coordination kind (统筹团队): the branch chief's desk
    is theirs too. Read from their teams (prefetched with the staff record)."""
    return frozenset(team.pk for team in staff.teams.all() if team.kind == Team.Kind.COORDINATION)


@dataclass(frozen=True)
class DeskRule(Rule):
    """A rule whose roles admit, and so does membership of a branch's coordination team."""

    def __call__(self, staff: Staff | None) -> bool:
        return staff is not None and (staff.has_role(*self.roles) or bool(coordination_team_ids(staff)))


# The chief's desk (分局长统筹, back_office/desk): the branch's open work by team, person and
# state, dispatch, reassign, rebalance, reminders. Branch chiefs and the coordination team
# see their branch scope (`desk_branch_ids`); administrators every branch.
can_use_desk = DeskRule(
    name="can_use_desk",
    roles=frozenset({R.BRANCH_CHIEF, R.ADMIN}),
    refusal=_("Only branch chiefs, their branch's coordination team and administrators use the chief's desk."),
)
# Urging (催办) or supervising (督办) a task's holder: a branch chief or a coordinator of its scope.
can_send_reminders = _rule(
    "can_send_reminders",
    {R.BRANCH_CHIEF, R.COORDINATOR, R.ADMIN},
    _("Only branch chiefs and coordinators urge or supervise a task's holder."),
)

# Conflicts of interest (回避) and leave, custom teams: a branch chief for the staff and teams
# of their branch scope (`may_manage_branch`), an administrator for any.
can_declare_absences = _rule(
    "can_declare_absences",
    {R.BRANCH_CHIEF, R.ADMIN},
    _("Only branch chiefs and administrators declare conflicts of interest and leave."),
)
can_add_teams = _rule("can_add_teams", {R.BRANCH_CHIEF, R.ADMIN}, _("Only branch chiefs and administrators add teams."))

RULES: tuple[Rule, ...] = tuple(value for value in list(globals().values()) if isinstance(value, Rule))


def require(rule: Rule, staff: Staff | None) -> None:
    """Raise ActionForbidden with the rule's sentence unless `staff` passes it (None is the system: allowed)."""
    if staff is not None and not rule(staff):
        raise ActionForbidden(str(rule.refusal))


def rules_for(staff: Staff) -> dict[str, bool]:
    """Every named predicate's answer for `staff`, for templates: `{% if access.can_use_hub %}`."""
    return {rule.name: rule(staff) for rule in RULES}


# --- visibility -------------------------------------------------------------------------------


def staff_team_ids(staff: Staff) -> frozenset[int]:
    cached = getattr(staff, "_team_ids_cache", None)
    if cached is None:
        _cache_teams(staff)
        cached = staff._team_ids_cache  # type: ignore[attr-defined]
    return cached


def staff_grid_team_ids(staff: Staff) -> frozenset[int]:
    """The staff member's grid service groups (teams of the grid kind)."""
    cached = getattr(staff, "_grid_team_ids_cache", None)
    if cached is None:
        _cache_teams(staff)
        cached = staff._grid_team_ids_cache  # type: ignore[attr-defined]
    return cached


def _cache_teams(staff: Staff) -> None:
    teams = list(staff.teams.all())  # uses prefetch_related("teams") when present
    staff._team_ids_cache = frozenset(team.pk for team in teams)  # type: ignore[attr-defined]
    staff._grid_team_ids_cache = frozenset(  # type: ignore[attr-defined]
        team.pk for team in teams if team.kind == Team.Kind.GRID
    )


def is_grid_only(staff: Staff) -> bool:
    """Grid staff and nothing else: every team of theirs is a grid service group, and no role
    of theirs (branch chief, clerk, …) gives them a wider view. They see their grids' work,
    not their whole branch's (`_visibility_terms`)."""
    teams = staff_team_ids(staff)
    return bool(teams) and teams == staff_grid_team_ids(staff) and staff.roles <= HANDLERS


def may_see_grid(staff: Staff, grid: Any) -> bool:
    """Whether the staff member sees this grid's overview (a loaded Grid: team, leader, branch)."""
    if staff.sees_everything:
        return True
    if grid.team_id in staff_grid_team_ids(staff) or grid.leader_id == staff.pk:
        return True
    return staff.has_role(R.BRANCH_CHIEF) and grid.branch_id in staff_branch_scope(staff)


def may_manage_grid(staff: Staff | None, grid: Any) -> bool:
    """Whether the staff member may assign taxpayers to this grid (None is the system)."""
    if staff is None:
        return True
    if not can_assign_grids(staff):
        return False
    return (
        not staff.has_role(R.BRANCH_CHIEF)
        or staff.has_role(R.COORDINATOR, R.ADMIN)
        or (grid.branch_id in staff_branch_scope(staff))
    )


def staff_branch_scope(staff: Staff) -> frozenset[int]:
    """The branches whose work the staff member sees: a hall's staff their own hall only (the
    cases it accepted); anyone else their home branch and the branches directly under it."""
    cached = getattr(staff, "_branch_scope_cache", None)
    if cached is None:
        home = staff.home_branch
        ids = {home.pk}
        if home.kind != home.Kind.HALL:
            ids.update(home.children.values_list("pk", flat=True))
        cached = frozenset(ids)
        staff._branch_scope_cache = cached  # type: ignore[attr-defined]  # a per-instance cache
    return cached


def desk_branch_ids(staff: Staff) -> frozenset[int] | None:
    """The branches whose work the chief's desk shows: the staff member's branch scope;
    None (every branch) for administrators."""
    return None if staff.sees_everything else staff_branch_scope(staff)


def may_manage_branch(staff: Staff | None, branch_id: int) -> bool:
    """Whether a chief or administrator acts on this branch's staff and teams (None is the
    system): an administrator anywhere, a branch chief within their branch scope."""
    if staff is None or staff.has_role(R.ADMIN):
        return True
    return staff.has_role(R.BRANCH_CHIEF) and branch_id in staff_branch_scope(staff)


def _visibility_terms(staff: Staff) -> list[tuple[str, frozenset[int]]]:
    """A task is visible when any of these task paths holds one of the ids (the one definition).

    They hold it; its team is one of their teams, or belongs to their branch scope; or it
    came from a case accepted at a hall of their scope, or accepted by them.

    Grid staff (`is_grid_only`) see neither their branch scope nor its halls: they see what
    they hold, their own groups' tasks, and every task of the taxpayers in their grids.
    """
    mine = frozenset({staff.pk})
    if is_grid_only(staff):
        return [
            ("assignee_id", mine),
            ("team_id", staff_team_ids(staff)),
            ("taxpayer__grid__team_id", staff_grid_team_ids(staff)),
            ("case__accepted_by_id", mine),
        ]
    scope = staff_branch_scope(staff)
    return [
        ("assignee_id", mine),
        ("team_id", staff_team_ids(staff)),
        ("team__branch_id", scope),
        ("case__hall_id", scope),
        # A remote contact or a service-point visit names no hall: the accepting clerk's
        # own office answers for it (for a window visit this is the hall again, mostly).
        ("case__accepted_by__home_branch_id", scope),
        ("case__accepted_by_id", mine),
    ]


def _follow(obj: Any, path: str) -> Any:
    for part in path.split("__"):
        if obj is None:
            return None
        obj = getattr(obj, part)
    return obj


def can_see_task(staff: Staff, task: Any) -> bool:
    """The predicate form of `visible_tasks_q` (a loaded Task; its team and case are followed)."""
    if staff.sees_everything:
        return True
    return any(_follow(task, path) in ids for path, ids in _visibility_terms(staff))


def may_act_on(staff: Staff, task: Any) -> bool:
    """Seeing is not acting. City-bureau staff see every task, but a city team's member or
    expert acts only on their own teams' tasks and the ones they hold; coordinators and
    administrators act on any task; everyone else on what they see (their branch scope)."""
    if staff.has_role(R.COORDINATOR, R.ADMIN):
        return True
    if staff.home_branch.kind == staff.home_branch.Kind.CITY:
        return task.assignee_id == staff.pk or task.team_id in staff_team_ids(staff)
    return can_see_task(staff, task)


def visible_tasks_q(staff: Staff) -> Q | None:
    """The queryset form of `can_see_task`; None means every task."""
    if staff.sees_everything:
        return None
    q = Q()
    for path, ids in _visibility_terms(staff):
        q |= Q(**{f"{path}__in": ids})
    return q


def visible_cases_q(staff: Staff, *, visible_task_case_ids: Any) -> Q | None:
    """Cases with a visible task (`visible_task_case_ids`: a subquery of their case ids), or
    whose own hall or acceptor makes their tasks visible (the `case__` terms, read on the case)."""
    if staff.sees_everything:
        return None
    q = Q(pk__in=visible_task_case_ids)
    for path, ids in _visibility_terms(staff):
        if path.startswith("case__"):
            q |= Q(**{f"{path.removeprefix('case__')}__in": ids})
        elif path.startswith("taxpayer__"):  # a case and its tasks share the taxpayer
            q |= Q(**{f"{path}__in": ids})
    return q

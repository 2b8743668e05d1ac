"""The demo's back office, issue #9: team leads, a chief's deputy, a city department's desk,
a two-step approval item, declared conflicts and leave, a custom team and some sub-tasks.

`build_back_office` runs at the end of `demo_build`, over the organisation and the cases
already built (`city.py`); `delete_demo_back_office` undoes what it adds outside the demo's
branches, inside `demo_reset`. Everything goes through the product's services (the deputy
through `desk.delegation_create`, conflicts and leave through `routing.services`, the custom
team through `routing.teams`, sub-tasks through `cases.services.subtask_open`), so the demo
exercises the same checks and audit rows as the screens.

The three tax-source branches already run the four teams 统筹/基础/风险/服务 with members
(`organisation.BACK_TEAM_KINDS`); `ensure_branch_teams` checks it and adds any team missing.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db.models import Q
from django.utils import timezone

from taxservice.audit import AppendOnly
from taxservice.catalogue.models import Item
from taxservice.changes.models import ChangeLog
from taxservice.org.models import Branch, Delegation, Role, Staff, StaffRole, Team, Tier
from taxservice.taxpayers.models import Taxpayer
from taxservice.workflow.cases import desk
from taxservice.workflow.cases import services as case_services
from taxservice.workflow.cases.models import Task, TaskState
from taxservice.workflow.routing import services as routing_services
from taxservice.workflow.routing import teams as routing_teams
from taxservice.workflow.routing.models import StaffConflict, StaffLeave

from .organisation import BACK_TEAM_KINDS, CHIEF_OF, CITY, DEMO_PASSWORD, SOURCE_SHORT, SOURCES, Organisation

# A city department that takes sub-tasks of joint handling (一问联办), with its desk.
DEPARTMENT = "DEPT-SAMR"
DEPARTMENT_NAME = "江城市市场监督管理局"
DEPARTMENT_TEAM = "DEPT-SAMR-DESK"
DEPARTMENT_TEAM_NAME = "市市场监督管理局联办窗口"
# The joint item whose approval takes two steps: the team lead's, then the branch chief's.
TWO_STEP_ITEM = "LB001"
CUSTOM_TEAM_NAME = "第一分局出口退税专属团队"

R = Role


@dataclass(frozen=True)
class BackOfficeLogin:
    username: str
    name: str
    roles: tuple[str, ...]
    home: str
    teams: tuple[str, ...]


# Team leads lead the teams they belong to (the first approval step of a two-step item);
# the deputy stands in for the first branch's chief this week and leads its 统筹 team.
LOGINS: list[BackOfficeLogin] = [
    BackOfficeLogin("deputy1", "周建平", (R.TEAM_LEAD,), "SRC1", ("SRC1-COORD",)),
    BackOfficeLogin("lead1", "陆文杰", (R.TEAM_LEAD,), "SRC1", ("SRC1-BASIC", "SRC1-RISK", "SRC1-SERVICE")),
    BackOfficeLogin("lead2", "钟丽娟", (R.TEAM_LEAD,), "SRC2", tuple(f"SRC2-{k}" for k, _n, _t in BACK_TEAM_KINDS)),
    BackOfficeLogin("lead3", "范俊杰", (R.TEAM_LEAD,), "SRC3", tuple(f"SRC3-{k}" for k, _n, _t in BACK_TEAM_KINDS)),
    BackOfficeLogin("dept1", "潘晓红", (R.TEAM_MEMBER,), DEPARTMENT, (DEPARTMENT_TEAM,)),
]
USERNAMES = [login.username for login in LOGINS]


def ensure_branch_teams(organisation: Organisation) -> None:
    """Every tax-source branch has the four teams 统筹/基础/风险/服务 (added if missing)."""
    for source in SOURCES:
        for suffix, name, kind in BACK_TEAM_KINDS:
            code = f"{source}-{suffix}"
            if code not in organisation.teams:
                organisation.teams[code] = Team.objects.create(
                    code=code,
                    name=f"{SOURCE_SHORT[source]}{name}",
                    kind=kind,
                    tier=Tier.BACK,
                    branch=organisation.branches[source],
                )


def _department(organisation: Organisation) -> None:
    branch = Branch.objects.create(
        code=DEPARTMENT, name=DEPARTMENT_NAME, kind=Branch.Kind.DEPARTMENT, parent=organisation.branches[CITY]
    )
    organisation.branches[DEPARTMENT] = branch
    organisation.teams[DEPARTMENT_TEAM] = Team.objects.create(
        code=DEPARTMENT_TEAM, name=DEPARTMENT_TEAM_NAME, kind=Team.Kind.DEPARTMENT, tier=Tier.BACK, branch=branch
    )


def _logins(organisation: Organisation) -> dict[str, Staff]:
    password = make_password(DEMO_PASSWORD)
    user_model = get_user_model()
    made: dict[str, Staff] = {}
    for login in LOGINS:
        user = user_model.objects.create(username=login.username, password=password)
        staff = Staff.objects.create(
            user=user, name=login.name, home_branch=organisation.branches[login.home], capacity=15
        )
        StaffRole.objects.bulk_create([StaffRole(staff=staff, role=role) for role in login.roles])
        staff.teams.add(*[organisation.teams[code] for code in login.teams])
        made[login.username] = (
            Staff.objects.select_related("user", "home_branch__parent")
            .prefetch_related("role_rows", "teams")
            .get(pk=staff.pk)
        )
    return made


def build_back_office(rng: random.Random, organisation: Organisation, case_ids: list[int]) -> None:
    """Add the back office's people, settings and records to a freshly built demo city."""
    ensure_branch_teams(organisation)
    _department(organisation)
    people = _logins(organisation)
    staff = organisation.staff
    chief1, chief2, admin = staff[CHIEF_OF["SRC1"]], staff[CHIEF_OF["SRC2"]], staff["admin"]

    # 一问联办 with a two-step approval: the team lead, then the branch chief.
    Item.objects.filter(code=TWO_STEP_ITEM).update(needs_approval=True, approval_levels=2)

    # The first branch's chief is away this week: the deputy decides in their place.
    now = timezone.now()
    desk.delegation_create(
        actor=chief1,
        deputy_id=people["deputy1"].pk,
        starts_at=now - dt.timedelta(minutes=5),
        ends_at=now + dt.timedelta(days=6),
        reason="分局长参加市局集中培训，本周由副局长代为审批",
    )

    # Conflicts of interest (回避) and leave, declared by the chiefs and the administrator.
    _conflicts_and_leave(rng, organisation, chief1=chief1, chief2=chief2, admin=admin)

    # A custom team for exclusive items; items reach it through a rule that names it.
    routing_teams.team_create(
        actor=chief1,
        branch="SRC1",
        name=CUSTOM_TEAM_NAME,
        members=[staff["back1a"].pk, staff["back1b"].pk],
    )

    _subtasks(rng, organisation, case_ids)


def _conflicts_and_leave(rng: random.Random, organisation: Organisation, *, chief1, chief2, admin) -> None:
    staff = organisation.staff
    for username, chief, reason in (
        ("back1a", chief1, "配偶在该企业担任财务负责人"),
        ("back1c", chief1, "曾在该企业任职，离职未满三年"),
        ("back2a", chief2, "近亲属为该企业股东"),
    ):
        member = staff[username]
        choices = list(Taxpayer.objects.filter(competent_branch=member.home_branch).order_by("credit_code")[:20])
        if not choices:
            continue
        taxpayer = rng.choice(choices)
        routing_services.conflict_declare(actor=chief, staff_id=member.pk, taxpayer=taxpayer.credit_code, reason=reason)
    today = timezone.localdate()
    for username, actor, start, days, reason in (
        ("back1c", chief1, today + dt.timedelta(days=2), 3, "年休假"),
        ("back3b", admin, today, 1, "病假"),
        ("back2c", chief2, today + dt.timedelta(days=10), 5, "婚假"),
    ):
        routing_services.leave_declare(
            actor=actor,
            staff_id=staff[username].pk,
            starts_on=start,
            ends_on=start + dt.timedelta(days=days - 1),
            reason=reason,
        )
    # One declaration withdrawn, so the screens show the record that stays.
    leave = StaffLeave.objects.filter(staff=staff["back2c"]).get()
    routing_services.leave_withdraw(actor=chief2, staff_id=staff["back2c"].pk, leave_id=leave.pk, reason="休假取消")


def _subtasks(rng: random.Random, organisation: Organisation, case_ids: list[int]) -> None:
    """Sub-tasks of open back-office work: one to another team of the branch, one to another
    branch, one to the city department's desk."""
    parents = list(
        Task.objects.filter(
            case_id__in=case_ids,
            parent__isnull=True,
            tier=Tier.BACK,
            team__branch__kind=Branch.Kind.SOURCE,
            state__in=[TaskState.IN_PROGRESS, TaskState.ASSIGNED],
        )
        .select_related("team", "assignee")
        .order_by("id")[:30]
    )
    if not parents:
        return
    picked = rng.sample(parents, k=min(3, len(parents)))
    for index, parent in enumerate(picked):
        branch = parent.team.branch.code
        if index == 0:
            team = next(
                code for code in (f"{branch}-RISK", f"{branch}-BASIC", f"{branch}-SERVICE") if code != parent.team.code
            )
            note = "请风险团队协查该户近三年发票开具异常情况"
        elif index == 1:
            other = next(source for source in SOURCES if source != branch)
            team = f"{other}-BASIC"
            note = "该户在贵分局辖区设有分支机构，请协助实地核实经营情况"
        else:
            team = DEPARTMENT_TEAM
            note = "请市场监管部门核实该户营业执照注销前置条件"
        sub = case_services.subtask_open(actor=parent.assignee, parent_id=parent.pk, team_code=team, note=note)
        # What the robot does on commit, now and with the demo's seed (as `cases.CaseBuilder`
        # does); when nobody is eligible, the coordination post assigns it by hand.
        routing_services.task_dispatch(task_id=sub.pk, actor=None, seed=rng.getrandbits(48))
        sub.refresh_from_db()
        if sub.state == TaskState.QUEUED:
            member = sub.team.members.filter(on_duty=True, role_rows__role=Role.TEAM_MEMBER).order_by("pk").first()
            if member is not None:
                case_services.task_transition(
                    task_id=sub.pk, actor=organisation.staff["coordinator1"], name="assign", assignee_id=member.pk
                )


def detach_demo_subtasks(*, task_ids: set[int]) -> None:
    """Inside `demo_reset`, just before the demo's tasks are deleted together: `Task.parent`
    protects a parent from deletion while a sub-task points at it, even when both go."""
    Task.objects.filter(pk__in=task_ids, parent__isnull=False).update(parent=None)


def delete_demo_back_office(*, staff: list[int]) -> None:
    """Inside `demo_reset`, after the demo's tasks are gone: the declarations, delegations and
    change-log rows of the demo's staff, then the department's login, desk and branch."""
    department_staff = list(Staff.objects.filter(home_branch__code=DEPARTMENT).values_list("pk", flat=True))
    everyone = [*staff, *department_staff]
    people = Q(staff__in=everyone) | Q(declared_by__in=everyone) | Q(withdrawn_by__in=everyone)
    StaffConflict.objects.filter(people).delete()
    StaffLeave.objects.filter(people).delete()
    Delegation.objects.filter(
        Q(chief__in=everyone) | Q(deputy__in=everyone) | Q(created_by__in=everyone) | Q(revoked_by__in=everyone)
    ).delete()
    # The demo's own change-log rows go with the demo, like its task histories.
    AppendOnly.purge(ChangeLog.objects.filter(actor__in=everyone))
    user_ids = list(Staff.objects.filter(pk__in=department_staff).values_list("user_id", flat=True))
    Staff.objects.filter(pk__in=department_staff).delete()
    get_user_model().objects.filter(Q(pk__in=user_ids) | Q(username__in=USERNAMES)).exclude(
        staff__isnull=False
    ).delete()
    Team.objects.filter(branch__code=DEPARTMENT).delete()
    Branch.objects.filter(code=DEPARTMENT).delete()

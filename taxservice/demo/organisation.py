"""The demo organisation: the city bureau, its branches and halls, teams, and staff logins.

Three tiers, as in the product: front-desk halls, the middle office (the city's online
teams, the service branch's coordination post and the dispatched groups of each tax-source
branch) and the back-office teams of the tax-source branches.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from taxservice.org.models import Branch, Role, Staff, StaffRole, Team, Tier

DEMO_PASSWORD = "taxservice-demo"  # noqa: S105 - the documented password of the demo logins only

CITY = "C00"
DISTRICT = "D01"
SERVICE_BRANCH = "S01"
HALLS = ("H01", "H02")
SOURCES = ("SRC1", "SRC2", "SRC3")
HUB = "HUB"

# (code, name, kind, parent code, home hall code)
BRANCHES: list[tuple[str, str, str, str | None, str | None]] = [
    (CITY, "江城市税务局", Branch.Kind.CITY, None, None),
    (DISTRICT, "江城市滨江区税务局", Branch.Kind.DISTRICT, CITY, None),
    (SERVICE_BRANCH, "滨江区税务局纳税服务分局", Branch.Kind.SERVICE, DISTRICT, None),
    ("H01", "滨江区市民中心办税服务厅", Branch.Kind.HALL, SERVICE_BRANCH, None),
    ("H02", "滨江区高新园办税服务厅", Branch.Kind.HALL, SERVICE_BRANCH, None),
    ("SRC1", "滨江区税务局第一税源管理分局", Branch.Kind.SOURCE, DISTRICT, "H01"),
    ("SRC2", "滨江区税务局第二税源管理分局", Branch.Kind.SOURCE, DISTRICT, "H01"),
    ("SRC3", "滨江区税务局第三税源管理分局", Branch.Kind.SOURCE, DISTRICT, "H02"),
]
BRANCH_CODES = [row[0] for row in BRANCHES]
SOURCE_SHORT = {"SRC1": "第一分局", "SRC2": "第二分局", "SRC3": "第三分局"}

# (code, name, kind, tier, branch code, home branch code)
TEAMS: list[tuple[str, str, str, str, str, str | None]] = [
    ("CITY-CONSULT", "线上咨询辅导团队", Team.Kind.ONLINE_CONSULTATION, Tier.MIDDLE, CITY, None),
    ("CITY-ONLINE", "线上办理团队", Team.Kind.ONLINE_PROCESSING, Tier.MIDDLE, CITY, None),
    ("CITY-EXPERT", "专家团队", Team.Kind.EXPERT, Tier.MIDDLE, CITY, None),
    ("CITY-PUBLICITY", "宣传产品制作团队", Team.Kind.PUBLICITY, Tier.MIDDLE, CITY, None),
    ("CITY-ANCHOR", "主播团队", Team.Kind.ANCHOR, Tier.MIDDLE, CITY, None),
    ("CITY-QUALITY", "质检团队", Team.Kind.QUALITY, Tier.MIDDLE, CITY, None),
    (HUB, "任务统筹岗", Team.Kind.COORDINATION_POST, Tier.MIDDLE, SERVICE_BRANCH, None),
]
BACK_TEAM_KINDS = [
    ("COORD", "统筹团队", Team.Kind.COORDINATION),
    ("BASIC", "基础团队", Team.Kind.BASIC),
    ("RISK", "风险团队", Team.Kind.RISK),
    ("SERVICE", "服务团队", Team.Kind.SERVICE),
]
for _source in SOURCES:
    for _suffix, _name, _kind in BACK_TEAM_KINDS:
        TEAMS.append((f"{_source}-{_suffix}", f"{SOURCE_SHORT[_source]}{_name}", _kind, Tier.BACK, _source, None))
    TEAMS.append((f"{_source}-GRID", f"{SOURCE_SHORT[_source]}网格服务组", Team.Kind.GRID, Tier.GRID, _source, None))
    TEAMS.append(
        (
            f"DISP-{_source}",
            f"{SOURCE_SHORT[_source]}派驻组",
            Team.Kind.DISPATCHED,
            Tier.MIDDLE,
            SERVICE_BRANCH,
            _source,
        )
    )
TEAM_CODES = [row[0] for row in TEAMS]


@dataclass(frozen=True)
class DemoStaff:
    username: str
    name: str
    roles: tuple[str, ...]
    home: str
    teams: tuple[str, ...] = ()
    capacity: int = 20
    on_duty: bool = True


R = Role
STAFF: list[DemoStaff] = [
    DemoStaff("admin", "王磊", (R.ADMIN,), CITY, capacity=10),
    DemoStaff("integrator1", "征纳互动平台接口", (R.INTEGRATOR,), CITY, capacity=10),
    DemoStaff("inspector1", "陈静", (R.QUALITY_INSPECTOR,), CITY, ("CITY-QUALITY",), capacity=15),
    DemoStaff("expert1", "冯志远", (R.EXPERT,), CITY, ("CITY-EXPERT",), capacity=15),
    DemoStaff("expert2", "许文博", (R.EXPERT,), CITY, ("CITY-EXPERT",), capacity=12),
    DemoStaff("coordinator1", "李明华", (R.COORDINATOR,), SERVICE_BRANCH, (HUB,), capacity=30),
    DemoStaff("coordinator2", "赵雅琴", (R.COORDINATOR,), SERVICE_BRANCH, (HUB,), capacity=25),
    DemoStaff("clerk1", "张丽", (R.CLERK,), "H01", capacity=30),
    DemoStaff("clerk2", "刘洋", (R.CLERK,), "H02", capacity=30),
    DemoStaff("clerk3", "黄婷婷", (R.CLERK,), "H01", capacity=30, on_duty=False),
    DemoStaff("online1", "王芳", (R.TEAM_MEMBER,), CITY, ("CITY-ONLINE",), capacity=30),
    DemoStaff("online2", "孙浩", (R.TEAM_MEMBER,), CITY, ("CITY-ONLINE",), capacity=25),
    DemoStaff("online3", "杨帆", (R.TEAM_MEMBER,), CITY, ("CITY-ONLINE",), capacity=20, on_duty=False),
    DemoStaff("consult1", "吴倩", (R.TEAM_MEMBER,), CITY, ("CITY-CONSULT", "CITY-PUBLICITY"), capacity=25),
    DemoStaff("consult2", "郑凯", (R.TEAM_MEMBER,), CITY, ("CITY-CONSULT", "CITY-ANCHOR"), capacity=20),
    DemoStaff("disp1a", "钱伟", (R.TEAM_MEMBER,), "SRC1", ("DISP-SRC1",), capacity=20),
    DemoStaff("disp1b", "何晓燕", (R.TEAM_MEMBER,), "SRC1", ("DISP-SRC1",), capacity=15),
    DemoStaff("disp2a", "罗建军", (R.TEAM_MEMBER,), "SRC2", ("DISP-SRC2",), capacity=20),
    DemoStaff("disp2b", "高敏", (R.TEAM_MEMBER,), "SRC2", ("DISP-SRC2",), capacity=15),
    DemoStaff("disp3a", "林志强", (R.TEAM_MEMBER,), "SRC3", ("DISP-SRC3",), capacity=20),
    DemoStaff("disp3b", "梁静怡", (R.TEAM_MEMBER,), "SRC3", ("DISP-SRC3",), capacity=15),
    DemoStaff("back1a", "宋涛", (R.TEAM_MEMBER,), "SRC1", ("SRC1-COORD", "SRC1-BASIC"), capacity=15),
    DemoStaff("back1b", "唐丽华", (R.TEAM_MEMBER,), "SRC1", ("SRC1-BASIC", "SRC1-RISK", "SRC1-SERVICE"), capacity=15),
    DemoStaff("back1c", "韩磊", (R.TEAM_MEMBER,), "SRC1", ("SRC1-RISK", "SRC1-SERVICE", "SRC1-COORD"), capacity=12),
    DemoStaff("back2a", "曹雪梅", (R.TEAM_MEMBER,), "SRC2", ("SRC2-COORD", "SRC2-BASIC"), capacity=15),
    DemoStaff(
        "back2b",
        "邓海峰",
        (R.TEAM_MEMBER,),
        "SRC2",
        ("SRC2-BASIC", "SRC2-RISK", "SRC2-SERVICE"),
        capacity=15,
        on_duty=False,
    ),
    DemoStaff("back2c", "彭丽", (R.TEAM_MEMBER,), "SRC2", ("SRC2-RISK", "SRC2-SERVICE", "SRC2-COORD"), capacity=12),
    DemoStaff("back3a", "蒋波", (R.TEAM_MEMBER,), "SRC3", ("SRC3-COORD", "SRC3-BASIC"), capacity=15),
    DemoStaff("back3b", "谢婉清", (R.TEAM_MEMBER,), "SRC3", ("SRC3-BASIC", "SRC3-RISK", "SRC3-SERVICE"), capacity=15),
    DemoStaff("back3c", "田野", (R.TEAM_MEMBER,), "SRC3", ("SRC3-RISK", "SRC3-SERVICE", "SRC3-COORD"), capacity=10),
    DemoStaff("grid1", "周晓东", (R.TEAM_MEMBER,), "SRC1", ("SRC1-GRID",), capacity=20),
    DemoStaff("grid2", "吕佳", (R.TEAM_MEMBER,), "SRC2", ("SRC2-GRID",), capacity=20),
    DemoStaff("grid3", "苏明", (R.TEAM_MEMBER,), "SRC3", ("SRC3-GRID",), capacity=20),
    DemoStaff("chief1", "吴国栋", (R.BRANCH_CHIEF,), "SRC1", capacity=10),
    DemoStaff("chief2", "郑秀英", (R.BRANCH_CHIEF,), "SRC2", capacity=10),
    DemoStaff("chief3", "马志刚", (R.BRANCH_CHIEF,), "SRC3", capacity=10),
]
USERNAMES = [member.username for member in STAFF]
CHIEF_OF = {"SRC1": "chief1", "SRC2": "chief2", "SRC3": "chief3"}


@dataclass
class Organisation:
    """The demo's organisation as built, keyed the way the case builder looks it up."""

    branches: dict[str, Branch] = field(default_factory=dict)  # by code
    teams: dict[str, Team] = field(default_factory=dict)  # by code
    staff: dict[str, Staff] = field(default_factory=dict)  # by username, in the order of STAFF
    staff_by_pk: dict[int, Staff] = field(default_factory=dict)
    members: dict[int, list[Staff]] = field(default_factory=dict)  # team pk -> on-duty members, by username


def build_organisation() -> Organisation:
    """Create the branches, teams, logins and staff of the demo. Call inside a transaction."""
    organisation = Organisation()
    branches, teams = organisation.branches, organisation.teams
    for code, name, kind, parent, _home_hall in BRANCHES:
        branches[code] = Branch.objects.create(
            code=code, name=name, kind=kind, parent=branches[parent] if parent else None
        )
    for code, _name, _kind, _parent, home_hall in BRANCHES:
        if home_hall:
            branch = branches[code]
            branch.home_hall = branches[home_hall]
            branch.save(update_fields=["home_hall"])
    for code, name, kind, tier, branch, home_branch in TEAMS:
        teams[code] = Team.objects.create(
            code=code,
            name=name,
            kind=kind,
            tier=tier,
            branch=branches[branch],
            home_branch=branches[home_branch] if home_branch else None,
        )

    # One hash for every demo login: hashing is deliberately slow.
    password = make_password(DEMO_PASSWORD)
    user_model = get_user_model()
    user_model.objects.bulk_create(
        [
            user_model(
                username=member.username,
                password=password,
                is_staff=R.ADMIN in member.roles,
                is_superuser=R.ADMIN in member.roles,
            )
            for member in STAFF
        ]
    )
    users = {user.username: user for user in user_model.objects.filter(username__in=USERNAMES)}
    Staff.objects.bulk_create(
        [
            Staff(
                user=users[member.username],
                name=member.name,
                home_branch=branches[member.home],
                on_duty=member.on_duty,
                capacity=member.capacity,
            )
            for member in STAFF
        ]
    )
    created = {s.user.username: s for s in Staff.objects.filter(user__username__in=USERNAMES).select_related("user")}
    StaffRole.objects.bulk_create([StaffRole(staff=created[m.username], role=role) for m in STAFF for role in m.roles])
    through = Staff.teams.through
    through.objects.bulk_create(
        [through(staff_id=created[m.username].pk, team_id=teams[code].pk) for m in STAFF for code in m.teams]
    )
    # Reload once with everything the policy reads, so its per-instance caches hold.
    loaded = {
        member.user.username: member
        for member in Staff.objects.filter(user__username__in=USERNAMES)
        .select_related("user", "home_branch", "home_branch__parent")
        .prefetch_related("role_rows", "teams")
    }
    for username in USERNAMES:  # a fixed order, whatever the database's collation
        member = loaded[username]
        organisation.staff[username] = member
        organisation.staff_by_pk[member.pk] = member
    for member in STAFF:
        if not member.on_duty:
            continue
        for code in member.teams:
            organisation.members.setdefault(teams[code].pk, []).append(organisation.staff[member.username])

    return organisation

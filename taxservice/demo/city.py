"""A deterministic demo city: organisation, staff, taxpayers and cases with real histories.

`demo_build(seed=...)` builds the whole city from one seed. Every random choice goes
through one `random.Random(seed)`, never the global generator, and every list it draws
from has a fixed order, so the same seed gives the same data (only the timestamps move
with the clock, since histories end "now").

Cases and tasks are written only through the services (`case_open`, `task_transition`,
and the robot's `task_dispatch` for tasks screening marks for auto-dispatch, with a seed
drawn from the demo's generator) with actors the policy allows, so the demo exercises
the same rules as the product. Afterwards the timestamps of each history are spread
over the last eight weeks on a working-hours clock, with bulk updates of the demo's own
rows (the transition log refuses `save()` on existing rows by design; re-dating a
freshly built demo history is the one exception). Rows that hang off a task with a
timestamp of their own (assignments, dispatch decisions, hub alerts, notifications)
are moved along with the history they belong to.

The management command `seed_demo` is a thin wrapper around this module.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.exceptions import FieldDoesNotExist
from django.db import transaction
from django.db.models import ProtectedError, Q, RestrictedError
from django.utils import timezone
from stdnum.cn import uscc

from taxservice.catalogue.models import HandlingList, Item
from taxservice.org.models import Branch, Role, Staff, StaffRole, Team, Tier
from taxservice.taxpayers.models import Taxpayer
from taxservice.workflow.cases import services
from taxservice.workflow.cases.calendar import due_at as compute_due_at
from taxservice.workflow.cases.calendar import is_working_day
from taxservice.workflow.cases.models import OPEN_STATES, Case, Channel, Notification, Task, TaskState, TaskTransition
from taxservice.workflow.routing import engine
from taxservice.workflow.routing import services as routing_services

DEMO_PASSWORD = "taxservice-demo"  # noqa: S105 - the documented password of the demo logins only
DEFAULT_SEED = 2026
DEFAULT_TAXPAYERS = 2000
DEFAULT_CASES = 300

Progress = Callable[[str, int, int], None]

# --------------------------------------------------------------------------------------
# The organisation
# --------------------------------------------------------------------------------------

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

# --------------------------------------------------------------------------------------
# Taxpayers: valid unified social credit codes and plausible names
# --------------------------------------------------------------------------------------

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# Administrative division codes used for the demo district (fictional but well-formed).
DIVISIONS = ("330108", "330109", "330110")
TRADE_CHARS = "恒达鑫盛华泰宏源瑞丰隆祥通博诚信嘉禾金汇鼎德远安康益新兴茂卓创立宇航天永明峰海润景福佳和正实中凯晟昊"
# Word lists for names, space-separated to keep them readable.
INDUSTRIES = tuple(
    "科技 贸易 建筑工程 餐饮管理 物流 电子 机械制造 食品 服装 房地产开发 信息技术 商贸 医药 文化传媒 教育咨询 "
    "环保科技 新材料 汽车销售 农业开发 装饰工程 网络科技 供应链管理 酒店管理 印务 化工 物业管理 人力资源 "
    "财务咨询 包装 五金".split()
)
COMPANY_FORMS = ("有限公司", "有限公司", "有限公司", "有限责任公司", "股份有限公司")
PLACE_PREFIXES = ("", "", "江城", "江城", "滨江", "浙江")
SHOPS = tuple("便利店 餐馆 五金店 理发店 水果店 服装店 小吃店 维修部 建材经营部 日用品商行 茶庄 药房".split())
NON_PROFITS = ("行业协会", "社区服务中心", "培训学校", "养老服务中心", "商会", "文化促进会")

CLASSIFICATIONS = [
    (Taxpayer.Classification.SMALL_SCALE, 50),
    (Taxpayer.Classification.GENERAL_VAT, 25),
    (Taxpayer.Classification.INDIVIDUAL_BUSINESS, 17),
    (Taxpayer.Classification.NON_PROFIT, 4),
    (Taxpayer.Classification.OTHER, 4),
]
GRADES = [("A", 15), ("B", 48), ("M", 22), ("C", 10), ("D", 5)]
SOURCE_WEIGHTS = [("SRC1", 40), ("SRC2", 35), ("SRC3", 25)]


def _weighted(rng: random.Random, pairs):  # noqa: ANN001, ANN202
    values = [value for value, _ in pairs]
    weights = [weight for _, weight in pairs]
    return rng.choices(values, weights=weights, k=1)[0]


def organisation_code(rng: random.Random) -> str:
    """The 9-character organisation code inside a USCC, with its GB 11714 check character.

    New registrations carry "MA" codes; older ones an eight-digit code. Only characters of
    the USCC alphabet are used, so the whole credit code stays canonical.
    """
    letters = USCC_ALPHABET[10:]
    while True:
        if rng.random() < 0.6:
            body = "MA" + "".join(rng.choice(USCC_ALPHABET) for _ in range(6))
        else:
            body = "".join(rng.choice("0123456789") for _ in range(8))
        weights = (3, 7, 9, 10, 5, 8, 4, 2)
        total = sum((int(c) if c.isdigit() else ord(c) - ord("A") + 10) * w for c, w in zip(body, weights, strict=True))
        check = 11 - total % 11
        char = "X" if check == 10 else "0" if check == 11 else str(check)
        if char.isdigit() or char in letters:
            return body + char


def credit_code(rng: random.Random, classification: str) -> str:
    """A valid unified social credit code (GB 32100-2015) for a taxpayer of `classification`."""
    if classification == Taxpayer.Classification.INDIVIDUAL_BUSINESS:
        kind = "92"  # market regulator, individual business
    elif classification == Taxpayer.Classification.NON_PROFIT:
        kind = rng.choice(("52", "53"))  # civil affairs: private non-enterprise unit, foundation
    else:
        kind = "91"  # market regulator, enterprise
    body = kind + rng.choice(DIVISIONS) + organisation_code(rng)
    return body + uscc.calc_check_digit(body)


def company_name(rng: random.Random, classification: str) -> str:
    trade = "".join(rng.sample(TRADE_CHARS, 2))
    if classification == Taxpayer.Classification.INDIVIDUAL_BUSINESS:
        return f"滨江区{trade}{rng.choice(SHOPS)}"
    if classification == Taxpayer.Classification.NON_PROFIT:
        return f"江城市滨江区{trade}{rng.choice(NON_PROFITS)}"
    return f"{rng.choice(PLACE_PREFIXES)}{trade}{rng.choice(INDUSTRIES)}{rng.choice(COMPANY_FORMS)}"


# --------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------


@dataclass
class Login:
    username: str
    roles: list[str]
    name: str
    home_branch: str
    on_duty: bool


@dataclass
class DemoSummary:
    taxpayers: int = 0
    cases: int = 0
    tasks: int = 0
    transitions: int = 0
    robot_dispatched: int = 0
    states: dict[str, int] = field(default_factory=dict)


class DemoResetError(RuntimeError):
    """Something outside the demo still refers to demo data, so it cannot be deleted."""


def demo_exists() -> bool:
    """Whether a demo city is already there (its city bureau or any demo login)."""
    return Branch.objects.filter(code=CITY).exists() or get_user_model().objects.filter(username__in=USERNAMES).exists()


def demo_logins() -> list[Login]:
    staff = (
        Staff.objects.filter(user__username__in=USERNAMES)
        .select_related("user", "home_branch")
        .prefetch_related("role_rows")
    )
    by_username = {member.user.username: member for member in staff}
    logins = []
    for username in USERNAMES:  # the builder's order: admin first, then by office
        member = by_username.get(username)
        if member is not None:
            logins.append(Login(username, sorted(member.roles), member.name, member.home_branch.name, member.on_duty))
    return logins


def demo_reset() -> None:
    """Delete the demo city and everything that hangs off it (cases, tasks, logs, users).

    Raises DemoResetError, deleting nothing, when data outside the demo still refers to it.
    """
    try:
        with transaction.atomic():
            _delete_demo()
    except (ProtectedError, RestrictedError) as exc:
        blocking = sorted({f"{obj._meta.label} #{obj.pk}" for obj in list(exc.args[1])[:10]})
        raise DemoResetError(
            "Data outside the demo still refers to it; remove it first: " + ", ".join(blocking)
        ) from None


def _delete_demo() -> None:
    from taxservice.workflow.routing.models import RobotSettings, RoutingRule, RoutingRuleChange

    branches = list(Branch.objects.filter(code__in=BRANCH_CODES).values_list("pk", flat=True))
    teams = list(
        Team.objects.filter(Q(code__in=TEAM_CODES) | Q(branch__in=branches) | Q(home_branch__in=branches)).values_list(
            "pk", flat=True
        )
    )
    staff = list(
        Staff.objects.filter(Q(user__username__in=USERNAMES) | Q(home_branch__in=branches)).values_list("pk", flat=True)
    )
    taxpayers = list(Taxpayer.objects.filter(competent_branch__in=branches).values_list("pk", flat=True))
    # Every task that touches the demo, and whole cases around them.
    touching = Task.objects.filter(
        Q(case__hall__in=branches)
        | Q(case__accepted_by__in=staff)
        | Q(taxpayer__in=taxpayers)
        | Q(team__in=teams)
        | Q(assignee__in=staff)
        | Q(transitions__actor__in=staff)
    )
    case_ids = set(
        Case.objects.filter(Q(hall__in=branches) | Q(taxpayer__in=taxpayers) | Q(accepted_by__in=staff)).values_list(
            "pk", flat=True
        )
    )
    case_ids.update(pk for pk in touching.values_list("case_id", flat=True) if pk is not None)
    task_ids = set(touching.values_list("pk", flat=True))
    task_ids.update(Task.objects.filter(case_id__in=case_ids).values_list("pk", flat=True))

    apps.get_model("cases", "TaskIntake").objects.filter(task_id__in=task_ids).delete()
    Notification.objects.filter(Q(task_id__in=task_ids) | Q(recipient__in=staff)).delete()
    # A queryset delete never calls TaskTransition.delete(): dropping whole demo
    # histories together with their tasks is the one sanctioned way to remove log rows.
    TaskTransition.objects.filter(task_id__in=task_ids).delete()
    Task.objects.filter(pk__in=task_ids).delete()  # assignments, decisions and alerts cascade
    Case.objects.filter(pk__in=case_ids).delete()
    Taxpayer.objects.filter(pk__in=taxpayers).delete()
    # Configuration survives the demo; only its "changed by" forgets the demo logins.
    RoutingRule.objects.filter(updated_by__in=staff).update(updated_by=None)
    RoutingRuleChange.objects.filter(changed_by__in=staff).update(changed_by=None)
    RobotSettings.objects.filter(changed_by__in=staff).update(changed_by=None)
    user_ids = list(Staff.objects.filter(pk__in=staff).values_list("user_id", flat=True))
    Staff.objects.filter(pk__in=staff).delete()
    get_user_model().objects.filter(Q(pk__in=user_ids) | Q(username__in=USERNAMES)).delete()
    Team.objects.filter(pk__in=teams).delete()
    Branch.objects.filter(pk__in=branches).update(home_hall=None)
    # Children before parents: the parent link protects.
    for code in reversed(BRANCH_CODES):
        Branch.objects.filter(code=code).delete()


def demo_build(
    *,
    seed: int = DEFAULT_SEED,
    taxpayers: int = DEFAULT_TAXPAYERS,
    cases: int = DEFAULT_CASES,
    progress: Progress | None = None,
) -> DemoSummary:
    """Build the demo city. Call on a database without demo data (see `demo_exists`)."""
    builder = _Builder(seed=seed, progress=progress)
    with transaction.atomic():
        builder.build_organisation()
        builder.build_taxpayers(taxpayers)
        builder.build_cases(cases)
        builder.spread_timestamps()
    # Follow-up work runs on commit (notifications; the robot finds nothing left to
    # dispatch), so notifications are dated afterwards.
    builder.date_notifications()
    return builder.summary()


# --------------------------------------------------------------------------------------
# The builder
# --------------------------------------------------------------------------------------

# Scenario end states the first cases are forced to, so that every state appears.
FORCED_STATES = [
    TaskState.RECEIVED,
    TaskState.QUEUED,
    TaskState.ASSIGNED,
    TaskState.IN_PROGRESS,
    TaskState.AWAITING_MATERIALS,
    TaskState.AWAITING_APPROVAL,
    TaskState.DONE,
    TaskState.CLOSED,
    TaskState.CANCELLED,
]

CHANNELS = [
    (Channel.HALL_WINDOW, 46),
    (Channel.ONLINE_INTERACTION, 18),
    (Channel.ETAX_APP, 10),
    (Channel.PHONE_12366, 10),
    (Channel.HOTLINE_12345, 6),
    (Channel.REMOTE_VIDEO, 5),
    (Channel.SERVICE_POINT, 5),
]
# End states of a transferred task, by weight; the builder falls back where a state does not fit the item.
TRANSFERRED_TARGETS = [
    (TaskState.CLOSED, 50),
    (TaskState.DONE, 9),
    (TaskState.CANCELLED, 4),
    (TaskState.QUEUED, 8),
    (TaskState.ASSIGNED, 7),
    (TaskState.IN_PROGRESS, 10),
    (TaskState.AWAITING_MATERIALS, 5),
    (TaskState.AWAITING_APPROVAL, 7),
]
IMMEDIATE_TARGETS = [(TaskState.CLOSED, 93), (TaskState.RECEIVED, 3), (TaskState.CANCELLED, 4)]

ON_SPOT_RESULTS = ("已当场办结，资料已交纳税人", "已即时办理完毕", "已当场办结并告知办理结果", "已按即办流程办结")
COMPLETE_RESULTS = ("已按规定办理完毕", "核实无误，办理完成", "已处理并登记结果", "经核实已整改到位")
APPROVAL_RESULTS = ("拟同意，请审批", "核实情况属实，提请审批", "已形成处理意见，提请审批")
# How the result goes back to the taxpayer depends on how they came.
FEEDBACK_RESULTS = {
    Channel.HALL_WINDOW: ("已窗口出件", "办理结果已当面告知纳税人"),
    Channel.PHONE_12366: ("已电话告知纳税人办理结果", "已通过12366回电答复"),
    Channel.ONLINE_INTERACTION: ("已通过征纳互动平台反馈结果",),
    Channel.ETAX_APP: ("已通过电子税务局推送办理结果",),
    Channel.HOTLINE_12345: ("已答复12345热线并回访纳税人",),
    Channel.REMOTE_VIDEO: ("已通过远程视频告知办理结果",),
    Channel.SERVICE_POINT: ("已由便民办税服务点送达结果",),
}
REASSIGN_REASONS = ("人员请假，调整承办人", "按工作量调整承办人", "需熟悉该行业的人员承办")
RETURN_REASONS = ("非本人业务范围，退回重新分派", "临时外出实地核查，退回由他人办理", "手头任务已饱和，申请改派")
ESCALATE_REASONS = ("需实地核查，转后台团队办理", "涉及风险疑点，提交后台联办", "需税源管理分局核实经营情况")
REJECT_REASONS = ("核实依据不充分，请补充", "处理意见不明确，请完善后再提交", "资料不全，请补充核实意见")
CANCEL_REASONS = ("纳税人撤回申请", "重复提交，已合并办理", "纳税人已通过电子税务局自行办结")
MATERIALS_REASONS = ("请纳税人补正资料", "缺少财务报表，已通知纳税人补充", "待纳税人提供情况说明")
NOTES = ("", "", "", "纳税人来电咨询", "纳税人首次办理，已做政策辅导", "异地经营，申请异厅通办", "纳税人要求尽快办理")

# Working-time gaps in minutes before each step, (low, high).
GAPS = {
    "handle_on_spot": (3, 25),
    "transfer": (2, 30),
    "assign_system": (0.05, 1),  # the robot dispatches within seconds
    "assign": (15, 600),
    "accept": (5, 240),
    "return": (30, 480),
    "reassign": (30, 600),
    "request_materials": (60, 960),
    "receive_materials": (240, 2700),
    "escalate": (60, 1080),
    "submit_for_approval": (120, 1620),
    "approve": (60, 1080),
    "reject": (60, 1080),
    "complete": (60, 1620),
    "give_feedback": (10, 540),
    "cancel": (10, 1080),
}
OPEN_FOR_RECENCY = {*OPEN_STATES, TaskState.DONE}
# Rows with a FK `task` and timestamps of their own, moved with the task's history.
SIDE_ROWS = [
    ("cases.TaskAssignment", ("assigned_at", "ended_at")),
    ("routing.DispatchDecision", ("at",)),
    ("routing.HubAlert", ("created_at", "resolved_at")),
]
DAY_START = dt.time(8, 30)
DAY_END = dt.time(17, 30)


class _Builder:
    def __init__(self, *, seed: int, progress: Progress | None) -> None:
        self.rng = random.Random(seed)
        self.progress = progress or (lambda stage, done, total: None)
        self.branches: dict[str, Branch] = {}
        self.teams: dict[str, Team] = {}
        self.staff: dict[str, Staff] = {}
        self.staff_by_pk: dict[int, Staff] = {}
        self.members: dict[int, list[Staff]] = {}  # team pk -> on-duty members, by username
        self.load: dict[int, int] = {}  # staff pk -> open tasks held
        self.holding: dict[int, int] = {}  # task pk -> staff pk counted in `load`
        self.taxpayers: list[Taxpayer] = []
        self.case_ids: list[int] = []
        self.immediate: list[Item] = []
        self.moved_forward: list[Item] = []
        self.city_items: list[Item] = []
        self.joint: list[Item] = []
        self.grid: list[Item] = []
        self.transferable: list[Item] = []

    # --- organisation ---

    def build_organisation(self) -> None:
        for code, name, kind, parent, _home_hall in BRANCHES:
            self.branches[code] = Branch.objects.create(
                code=code, name=name, kind=kind, parent=self.branches[parent] if parent else None
            )
        for code, _name, _kind, _parent, home_hall in BRANCHES:
            if home_hall:
                branch = self.branches[code]
                branch.home_hall = self.branches[home_hall]
                branch.save(update_fields=["home_hall"])
        for code, name, kind, tier, branch, home_branch in TEAMS:
            self.teams[code] = Team.objects.create(
                code=code,
                name=name,
                kind=kind,
                tier=tier,
                branch=self.branches[branch],
                home_branch=self.branches[home_branch] if home_branch else None,
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
                    home_branch=self.branches[member.home],
                    on_duty=member.on_duty,
                    capacity=member.capacity,
                )
                for member in STAFF
            ]
        )
        created = {
            s.user.username: s for s in Staff.objects.filter(user__username__in=USERNAMES).select_related("user")
        }
        StaffRole.objects.bulk_create(
            [StaffRole(staff=created[m.username], role=role) for m in STAFF for role in m.roles]
        )
        through = Staff.teams.through
        through.objects.bulk_create(
            [through(staff_id=created[m.username].pk, team_id=self.teams[code].pk) for m in STAFF for code in m.teams]
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
            self.staff[username] = member
            self.staff_by_pk[member.pk] = member
            self.load[member.pk] = 0
        for member in STAFF:
            if not member.on_duty:
                continue
            for code in member.teams:
                self.members.setdefault(self.teams[code].pk, []).append(self.staff[member.username])
        self.progress("organisation", 1, 1)

    # --- taxpayers ---

    def build_taxpayers(self, count: int) -> None:
        rng = self.rng
        codes: set[str] = set()
        names: set[str] = set()
        rows = []
        for _ in range(count):
            classification = _weighted(rng, CLASSIFICATIONS)
            code = credit_code(rng, classification)
            while code in codes:
                code = credit_code(rng, classification)
            codes.add(code)
            name = company_name(rng, classification)
            while name in names:
                name = company_name(rng, classification)
            names.add(name)
            rows.append(
                Taxpayer(
                    credit_code=code,
                    name=name,
                    competent_branch=self.branches[_weighted(rng, SOURCE_WEIGHTS)],
                    classification=classification,
                    grade=_weighted(rng, GRADES),
                )
            )
        # Skip any code another taxpayer already holds: the demo never overwrites real data.
        taken = set(Taxpayer.objects.filter(credit_code__in=codes).values_list("credit_code", flat=True))
        Taxpayer.objects.bulk_create([row for row in rows if row.credit_code not in taken], batch_size=500)
        self.taxpayers = list(
            Taxpayer.objects.filter(competent_branch__code__in=SOURCES)
            .select_related("competent_branch")
            .order_by("credit_code")
        )
        self.progress("taxpayers", count, count)

    # --- cases ---

    def build_cases(self, count: int) -> None:
        if not self.taxpayers:
            return
        items = list(Item.objects.filter(active=True).order_by("code"))
        self.immediate = [i for i in items if i.handling_list == HandlingList.IMMEDIATE and i.tier == Tier.FRONT]
        self.moved_forward = [i for i in items if i.moved_forward]
        self.city_items = [
            i
            for i in items
            if i.handling_list == HandlingList.ASSISTED and i.tier == Tier.MIDDLE and not i.moved_forward
        ]
        self.joint = [i for i in items if i.handling_list == HandlingList.JOINT]
        self.grid = [i for i in items if i.tier == Tier.GRID]
        self.transferable = self.moved_forward + self.city_items + self.joint + self.grid
        if not self.immediate or not self.transferable:
            raise RuntimeError("The item catalogue is empty: run the migrations first (catalogue 0002 seeds it).")
        for index in range(count):
            forced = FORCED_STATES[index] if index < len(FORCED_STATES) else None
            self._one_case(forced)
            self.progress("cases", index + 1, count)

    def _pick_items(self, channel: str, *, forced: str | None, opener_is_clerk: bool, taxpayer: Taxpayer) -> list[Item]:
        rng = self.rng
        by_code = {i.code: i for i in self.immediate + self.transferable}
        if forced is not None:
            if forced == TaskState.RECEIVED:
                return [rng.choice(self.immediate)]
            pool = [i for i in self.transferable if i.tier != Tier.GRID]
            if forced == TaskState.AWAITING_APPROVAL:
                pool = [i for i in pool if i.needs_approval]
            if forced == TaskState.QUEUED:
                # Only a task the robot leaves alone stays in the queue.
                pool = [
                    i
                    for i in pool
                    if not engine.classify(item=i, source=Task.Source.FRONT_DESK, taxpayer=taxpayer).auto_dispatch
                ] or pool
            return [rng.choice(pool)]
        if channel == Channel.HOTLINE_12345 and "FB006" in by_code:
            return [by_code["FB006"]]
        if channel == Channel.PHONE_12366 and "FB005" in by_code and rng.random() < 0.5:
            return [by_code["FB005"]]
        if channel == Channel.SERVICE_POINT and self.grid and rng.random() < 0.6:
            return [rng.choice(self.grid)]
        wanted = _weighted(rng, [(1, 68), (2, 24), (3, 8)])
        chosen: list[Item] = []
        while len(chosen) < wanted:
            kind = _weighted(
                rng,
                [
                    ("immediate", 46 if opener_is_clerk else 0),
                    ("moved_forward", 27),
                    ("city", 14),
                    ("joint", 9),
                    ("grid", 4),
                ],
            )
            pool = {
                "immediate": self.immediate,
                "moved_forward": self.moved_forward,
                "city": [i for i in self.city_items if i.code not in ("FB005", "FB006")] or self.city_items,
                "joint": self.joint,
                "grid": self.grid,
            }[kind] or self.transferable
            # High-frequency items come up three times as often.
            item = rng.choices(pool, weights=[3 if i.high_frequency else 1 for i in pool], k=1)[0]
            if item not in chosen:
                chosen.append(item)
        return chosen

    def _one_case(self, forced: str | None) -> None:
        rng = self.rng
        taxpayer = rng.choice(self.taxpayers)
        channel = Channel.HALL_WINDOW if forced is not None else _weighted(rng, CHANNELS)
        home_hall = taxpayer.competent_branch.home_hall_id
        halls = [self.branches[code] for code in HALLS]
        own = [hall for hall in halls if hall.pk == home_hall] or halls
        hall = rng.choice(own) if rng.random() < 0.8 else rng.choice([h for h in halls if h not in own] or halls)
        opener_is_clerk = not (
            channel in (Channel.HOTLINE_12345, Channel.ONLINE_INTERACTION, Channel.ETAX_APP) and rng.random() < 0.6
        )
        opener = self._clerk_of(hall) if opener_is_clerk else self.staff["integrator1"]
        items = self._pick_items(channel, forced=forced, opener_is_clerk=opener_is_clerk, taxpayer=taxpayer)
        case = services.case_open(
            actor=opener,
            taxpayer=taxpayer.credit_code,
            channel=channel,
            hall=hall.code,
            items=[services.RequestedItem(item=item.code) for item in items],
            notes=rng.choice(NOTES),
        )
        self.case_ids.append(case.pk)
        tasks = list(case.tasks.select_related("item").order_by("pk"))
        for position, task in enumerate(tasks):
            target = forced if (forced is not None and position == 0) else self._target_for(task.item)
            self._run(task, target=target, case=case, opener=opener)

    def _target_for(self, item: Item) -> str:
        if item.handling_list == HandlingList.IMMEDIATE:
            return _weighted(self.rng, IMMEDIATE_TARGETS)
        target = _weighted(self.rng, TRANSFERRED_TARGETS)
        if target == TaskState.AWAITING_APPROVAL and not item.needs_approval:
            target = TaskState.IN_PROGRESS
        return target

    def _plan(self, item: Item, target: str) -> list[str]:
        """The transitions after "receive" that take a task of `item` to `target`.

        "assign" steps are skipped at run time when the robot has already dispatched
        the task, so a task the robot handles never stays queued.
        """
        rng = self.rng
        if item.handling_list == HandlingList.IMMEDIATE:
            return {TaskState.RECEIVED: [], TaskState.CANCELLED: ["cancel"]}.get(target, ["handle_on_spot"])
        if target == TaskState.RECEIVED:
            return []
        if target == TaskState.CANCELLED:
            return rng.choice([["cancel"], ["transfer", "cancel"], ["transfer", "assign", "accept", "cancel"]])
        steps = ["transfer"]
        if target == TaskState.QUEUED:
            return steps + (["assign", "return"] if rng.random() < 0.25 else [])
        steps.append("assign")
        roll = rng.random()
        if roll < 0.07:
            steps += ["return", "assign"]
        elif roll < 0.12:
            steps += ["reassign"]
        if target == TaskState.ASSIGNED:
            return steps
        steps.append("accept")
        if item.tier == Tier.MIDDLE and rng.random() < 0.08:
            steps += ["escalate", "assign", "accept"]
        if target == TaskState.AWAITING_MATERIALS:
            return steps + ["request_materials"]
        if rng.random() < 0.18:
            steps += ["request_materials", "receive_materials"]
        if target == TaskState.IN_PROGRESS:
            return steps
        if item.needs_approval:
            steps.append("submit_for_approval")
            if target == TaskState.AWAITING_APPROVAL:
                return steps
            if rng.random() < 0.15:
                steps += ["reject", "submit_for_approval"]
            steps.append("approve")
        else:
            steps.append("complete")
        if target == TaskState.DONE:
            return steps
        return steps + ["give_feedback"]

    def _reload(self, task: Task) -> Task:
        return Task.objects.select_related("item", "team", "team__branch", "case", "case__hall").get(pk=task.pk)

    def _run(self, task: Task, *, target: str, case: Case, opener: Staff) -> None:
        avoid: Staff | None = None
        for name in self._plan(task.item, target):
            task = self._reload(task)
            if name == "assign" and task.state != TaskState.QUEUED:
                continue  # the robot dispatched it already
            if name == "reassign" and task.state not in (TaskState.ASSIGNED, TaskState.IN_PROGRESS):
                continue
            kwargs: dict = {"task_id": task.pk, "name": name, **self._texts(name, channel=case.channel)}
            actor: Staff | None
            if name in ("assign", "reassign"):
                actor, assignee = self._assignment(task, name=name, avoid=avoid)
                kwargs["assignee_id"] = assignee.pk
            else:
                actor = self._actor(task, name, case=case, opener=opener)
            if name in ("return", "reassign"):
                avoid = self.staff_by_pk.get(task.assignee_id)
            task = services.task_transition(actor=actor, **kwargs)
            self._track_load(task)
            if task.state == TaskState.QUEUED and task.auto_dispatch:
                self._robot_dispatch(task)

    def _robot_dispatch(self, task: Task) -> None:
        """What the robot does right after a task lands in an auto-dispatch queue.

        The dispatch service runs the real pipeline; the seed comes from the demo's
        generator, so the choice is repeatable (and replayable from the decision row).
        When nobody is eligible the coordination post assigns it by hand.
        """
        routing_services.task_dispatch(task_id=task.pk, actor=None, seed=self.rng.getrandbits(48))
        task = self._reload(task)
        self._track_load(task)
        if task.state == TaskState.QUEUED:
            actor, assignee = self._assignment(task, name="assign", avoid=None, by_hub=True)
            task = services.task_transition(task_id=task.pk, actor=actor, name="assign", assignee_id=assignee.pk)
            self._track_load(task)

    def _track_load(self, task: Task) -> None:
        """Keep count of the open tasks each member holds, to respect their capacity."""
        held_by = self.holding.pop(task.pk, None)
        if held_by is not None:
            self.load[held_by] -= 1
        if task.assignee_id is not None and task.state in OPEN_STATES:
            self.holding[task.pk] = task.assignee_id
            self.load[task.assignee_id] = self.load.get(task.assignee_id, 0) + 1

    def _texts(self, name: str, *, channel: str) -> dict:
        rng = self.rng
        if name == "handle_on_spot":
            return {"result": rng.choice(ON_SPOT_RESULTS)}
        if name == "complete":
            return {"result": rng.choice(COMPLETE_RESULTS)}
        if name == "submit_for_approval":
            return {"result": rng.choice(APPROVAL_RESULTS)}
        if name == "give_feedback":
            return {"result": rng.choice(FEEDBACK_RESULTS.get(channel, ("办理结果已告知纳税人",)))}
        reasons = {
            "return": RETURN_REASONS,
            "reassign": REASSIGN_REASONS,
            "escalate": ESCALATE_REASONS,
            "reject": REJECT_REASONS,
            "cancel": CANCEL_REASONS,
            "request_materials": MATERIALS_REASONS,
        }.get(name)
        return {"reason": rng.choice(reasons)} if reasons else {}

    def _clerk_of(self, hall: Branch) -> Staff:
        clerks = [s for s in self.staff.values() if s.home_branch_id == hall.pk and s.on_duty and s.has_role(R.CLERK)]
        return self.rng.choice(clerks)

    def _coordinator(self, *, not_pk: int | None = None) -> Staff:
        pool = [self.staff[u] for u in ("coordinator1", "coordinator2") if self.staff[u].pk != not_pk]
        return self.rng.choice(pool)

    def _chief_for(self, task: Task) -> Staff | None:
        """The chief of the tax-source branch that owns the task's team, if it is one."""
        if task.team is not None and task.team.branch.code in CHIEF_OF:
            return self.staff[CHIEF_OF[task.team.branch.code]]
        return None

    def _assignment(self, task: Task, *, name: str, avoid: Staff | None, by_hub: bool = False) -> tuple[Staff, Staff]:
        """Who assigns `task` (or reassigns it), and to whom: a member takes it from the
        queue, or a coordinator or the branch chief hands it to someone."""
        rng = self.rng
        team = task.team
        if team is None or team.kind == Team.Kind.COORDINATION_POST:
            # The coordination post works its own queue.
            coordinator = self._coordinator()
            if name == "reassign":
                return coordinator, self._coordinator(not_pk=task.assignee_id)
            return coordinator, coordinator
        members = self.members.get(team.pk, [])
        if not members:
            raise RuntimeError(f"Team {team.code} has no one on duty to take task {task.pk}.")
        pool = [m for m in members if m != avoid and m.pk != task.assignee_id] or members
        free = [m for m in pool if self.load[m.pk] < m.capacity] or pool
        assignee = rng.choice(free)
        supervisor = self._chief_for(task) or self._coordinator()
        if by_hub:
            return self._coordinator(), assignee
        if name == "reassign":
            return supervisor, assignee
        if rng.random() < 0.65:
            return assignee, assignee  # the member takes it from the team queue
        return supervisor, assignee

    def _actor(self, task: Task, name: str, *, case: Case, opener: Staff) -> Staff:
        assignee = self.staff_by_pk.get(task.assignee_id) if task.assignee_id else None
        if name in {"accept", "request_materials", "receive_materials", "escalate", "submit_for_approval", "complete"}:
            return assignee
        if name == "return":
            return assignee
        if name in {"approve", "reject"}:
            return self._chief_for(task) or self._coordinator(not_pk=task.assignee_id)
        if name == "handle_on_spot":
            return opener if opener.has_role(R.CLERK) else self._clerk_of(case.hall)
        if name == "transfer":
            return opener if opener.has_role(R.CLERK) else self._coordinator()
        if name == "give_feedback":
            if case.channel == Channel.HALL_WINDOW:
                return self._clerk_of(case.hall)  # 窗口出件: the result is issued at a window
            return assignee or self._coordinator()
        if name == "cancel":
            if task.team is None:
                return opener if opener.has_role(R.CLERK) else self._coordinator()
            return self._chief_for(task) or self._coordinator()
        raise ValueError(name)

    # --- timestamps ---

    def spread_timestamps(self) -> None:
        """Move every demo history into the last eight weeks, on a working-hours clock."""
        rng = self.rng
        now = timezone.localtime(timezone.now()).replace(microsecond=0)
        cases = {c.pk: c for c in Case.objects.filter(pk__in=self.case_ids)}
        tasks = list(Task.objects.filter(case_id__in=self.case_ids).select_related("item").order_by("pk"))
        logs: dict[int, list[TaskTransition]] = {}
        for row in TaskTransition.objects.filter(task__case_id__in=self.case_ids).order_by("task_id", "at", "id"):
            logs.setdefault(row.task_id, []).append(row)
        by_case: dict[int, list[Task]] = {}
        for task in tasks:
            by_case.setdefault(task.case_id, []).append(task)

        # Per task: (time during the build, time in the demo history) of each log row.
        anchors: dict[int, list[tuple[dt.datetime, dt.datetime]]] = {}
        changed_cases, changed_tasks, changed_logs = [], [], []
        for case_id in self.case_ids:
            case = cases[case_id]
            case_tasks = by_case.get(case_id, [])
            gaps = {task.pk: [self._gap(row) for row in logs[task.pk][1:]] for task in case_tasks}
            longest = max((sum(g) for g in gaps.values()), default=0.0)
            is_recent = any(task.state in OPEN_FOR_RECENCY for task in case_tasks)
            latest_end = now - dt.timedelta(minutes=rng.uniform(5, 180))
            earliest = now - dt.timedelta(days=9 if is_recent else 56)
            available = _working_minutes(earliest, latest_end)
            if longest > available * 0.9:
                scale = available * 0.9 / longest
                gaps = {pk: [g * scale for g in values] for pk, values in gaps.items()}
                longest *= scale
            latest_start = _retreat(latest_end, longest)
            span = _working_minutes(earliest, latest_start)
            if span <= 0:
                offset = 0.0
            elif is_recent:
                offset = rng.triangular(0, span, span)  # open work is mostly recent
            else:
                offset = rng.uniform(0, span)
            start = _advance(_snap_forward(earliest), offset).replace(microsecond=0)
            start += dt.timedelta(seconds=rng.randint(0, 59))
            case.created_at = start
            ends = []
            for task in case_tasks:
                rows = logs[task.pk]
                anchors[task.pk] = [(rows[0].at, start)]
                rows[0].at = start
                changed_logs.append(rows[0])
                at = start
                paused = dt.timedelta(0)
                requested_at = None
                for row, gap in zip(rows[1:], gaps[task.pk], strict=True):
                    at = _advance(at, gap).replace(microsecond=0)
                    anchors[task.pk].append((row.at, at))
                    row.at = at
                    if row.transition == "request_materials":
                        requested_at = at
                    if row.transition == "receive_materials" and requested_at is not None:
                        pause = at - requested_at
                        paused += pause
                        row.details = {**row.details, "paused_seconds": int(pause.total_seconds())}
                    changed_logs.append(row)
                task.created_at = start
                task.updated_at = at
                task.due_at = compute_due_at(received_at=start, time_limit_days=task.item.time_limit_days) + paused
                changed_tasks.append(task)
                ends.append(at)
            if case.state == Case.State.CLOSED:
                case.closed_at = max(ends, default=start)
            changed_cases.append(case)

        Case.objects.bulk_update(changed_cases, ["created_at", "closed_at"], batch_size=500)
        Task.objects.bulk_update(changed_tasks, ["created_at", "updated_at", "due_at"], batch_size=500)
        TaskTransition.objects.bulk_update(changed_logs, ["at", "details"], batch_size=500)
        self._move_side_rows(anchors)
        self.progress("timestamps", 1, 1)

    def _move_side_rows(self, anchors: dict[int, list[tuple[dt.datetime, dt.datetime]]]) -> None:
        """Re-date rows that hang off a task, keeping their place in its history."""
        for label, fields in SIDE_ROWS:
            try:
                model = apps.get_model(label)
                for name in fields:
                    model._meta.get_field(name)
            except (LookupError, FieldDoesNotExist):
                continue  # not installed in this version of the core
            rows = list(model.objects.filter(task_id__in=anchors.keys()).order_by("pk"))
            for row in rows:
                for name in fields:
                    value = getattr(row, name)
                    if value is not None:
                        setattr(row, name, _warp(anchors[row.task_id], value))
            model.objects.bulk_update(rows, list(fields), batch_size=500)

    def _gap(self, row: TaskTransition) -> float:
        key = "assign_system" if row.transition == "assign" and row.actor_id is None else row.transition
        low, high = GAPS.get(key, (5, 60))
        return round(self.rng.uniform(low, high) * 60) / 60  # whole seconds

    def date_notifications(self) -> None:
        """Date each notification at its transition; mark those on finished tasks as read."""
        rng = self.rng
        rows = list(
            Notification.objects.filter(task__case_id__in=self.case_ids)
            .select_related("transition", "task")
            .order_by("pk")
        )
        for row in rows:
            row.created_at = row.transition.at
            if row.task.state not in OPEN_STATES:
                row.read_at = row.created_at + dt.timedelta(minutes=rng.uniform(2, 600))
        with transaction.atomic():
            Notification.objects.bulk_update(rows, ["created_at", "read_at"], batch_size=500)

    def summary(self) -> DemoSummary:
        tasks = Task.objects.filter(case_id__in=self.case_ids)
        states = dict.fromkeys(TaskState.values, 0)
        for state in tasks.values_list("state", flat=True):
            states[state] += 1
        logs = TaskTransition.objects.filter(task__in=tasks)
        return DemoSummary(
            taxpayers=len(self.taxpayers),
            cases=len(self.case_ids),
            tasks=tasks.count(),
            transitions=logs.count(),
            robot_dispatched=logs.filter(transition="assign", actor__isnull=True).count(),
            states=states,
        )


def _warp(anchors: list[tuple[dt.datetime, dt.datetime]], moment: dt.datetime) -> dt.datetime:
    """Map a time from the build onto the demo history: just after the last log row
    written before it, and never past the next one."""
    index = bisect.bisect_right([built for built, _ in anchors], moment) - 1
    if index < 0:
        return anchors[0][1]
    built, placed = anchors[index]
    offset = moment - built
    if index + 1 < len(anchors):
        offset = min(offset, max(anchors[index + 1][1] - placed, dt.timedelta(0)))
    return placed + offset


# --------------------------------------------------------------------------------------
# A working-hours clock (08:30-17:30 on working days) for plausible histories
# --------------------------------------------------------------------------------------


def _at(day: dt.date, time: dt.time, tz: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=tz)


def _snap_forward(moment: dt.datetime) -> dt.datetime:
    """The first working instant at or after `moment`."""
    tz = moment.tzinfo
    day = moment.date()
    if is_working_day(day) and moment.time() < DAY_END:
        return max(moment, _at(day, DAY_START, tz))
    day += dt.timedelta(days=1)
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return _at(day, DAY_START, tz)


def _snap_backward(moment: dt.datetime) -> dt.datetime:
    """The last working instant at or before `moment`."""
    tz = moment.tzinfo
    day = moment.date()
    if is_working_day(day) and moment.time() > DAY_START:
        return min(moment, _at(day, DAY_END, tz))
    day -= dt.timedelta(days=1)
    while not is_working_day(day):
        day -= dt.timedelta(days=1)
    return _at(day, DAY_END, tz)


def _advance(moment: dt.datetime, minutes: float) -> dt.datetime:
    """`moment` plus `minutes` of working time."""
    current = _snap_forward(moment)
    remaining = dt.timedelta(minutes=minutes)
    while True:
        left_today = _at(current.date(), DAY_END, current.tzinfo) - current
        if remaining <= left_today:
            return current + remaining
        remaining -= left_today
        current = _snap_forward(_at(current.date(), DAY_END, current.tzinfo))


def _retreat(moment: dt.datetime, minutes: float) -> dt.datetime:
    """`moment` minus `minutes` of working time."""
    current = _snap_backward(moment)
    remaining = dt.timedelta(minutes=minutes)
    while True:
        used_today = current - _at(current.date(), DAY_START, current.tzinfo)
        if remaining <= used_today:
            return current - remaining
        remaining -= used_today
        current = _snap_backward(_at(current.date(), DAY_START, current.tzinfo))


def _working_minutes(start: dt.datetime, end: dt.datetime) -> float:
    """Working minutes between two instants (0 when `end` is not after `start`)."""
    current = _snap_forward(start)
    total = dt.timedelta(0)
    while current < end:
        day_end = _at(current.date(), DAY_END, current.tzinfo)
        total += min(day_end, end) - current
        current = _snap_forward(day_end)
    return max(total.total_seconds() / 60, 0.0)

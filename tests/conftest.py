"""Shared fixtures: a small organisation with every role, and helpers to open cases."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module

import pytest

from taxservice.catalogue.models import HandlingList
from taxservice.org.models import Branch, Role, Staff, Team, Tier
from taxservice.workflow.cases import services
from tests import browser as browser_support
from tests.factories import BranchFactory, ItemFactory, StaffFactory, TaxpayerFactory, TeamFactory


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Tests make many users; the production hasher's deliberate slowness buys nothing here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Long jobs run in the request, inside the test's transaction, not on a thread.
    settings.TAXSERVICE_BACKGROUND_JOBS = "inline"
    # The API's rate limit counts in a cache that outlives each test (tests/test_throttle.py
    # proves the 429 at a low rate).
    settings.TAXSERVICE_API_RATE = 1_000_000


@dataclass
class Org:
    city: Branch
    service_branch: Branch
    hall: Branch
    hall2: Branch
    source: Branch
    source2: Branch
    hub: Team
    online: Team
    dispatched: Team
    basic: Team
    basic2: Team
    clerk: Staff
    coordinator: Staff
    member: Staff
    member2: Staff
    dispatched_member: Staff
    back_member: Staff
    back_member2: Staff
    chief: Staff
    chief2: Staff
    expert: Staff
    inspector: Staff
    admin: Staff
    integrator: Staff


@pytest.fixture
def org(db) -> Org:
    city = BranchFactory(code="C00", name="市局", kind=Branch.Kind.CITY)
    district = BranchFactory(code="D01", name="一区税务局", kind=Branch.Kind.DISTRICT, parent=city)
    service_branch = BranchFactory(code="S01", name="纳税服务分局", kind=Branch.Kind.SERVICE, parent=district)
    hall = BranchFactory(code="H01", name="第一办税厅", kind=Branch.Kind.HALL, parent=service_branch)
    hall2 = BranchFactory(code="H02", name="第二办税厅", kind=Branch.Kind.HALL, parent=service_branch)
    source = BranchFactory(
        code="SRC1", name="第一税源管理分局", kind=Branch.Kind.SOURCE, parent=district, home_hall=hall
    )
    source2 = BranchFactory(
        code="SRC2", name="第二税源管理分局", kind=Branch.Kind.SOURCE, parent=district, home_hall=hall2
    )
    hub = TeamFactory(
        code="HUB", name="任务统筹岗", kind=Team.Kind.COORDINATION_POST, tier=Tier.MIDDLE, branch=service_branch
    )
    online = TeamFactory(
        code="ONLINE", name="线上办理团队", kind=Team.Kind.ONLINE_PROCESSING, tier=Tier.MIDDLE, branch=city
    )
    dispatched = TeamFactory(
        code="DISP1",
        name="第一分局派驻组",
        kind=Team.Kind.DISPATCHED,
        tier=Tier.MIDDLE,
        branch=service_branch,
        home_branch=source,
    )
    basic = TeamFactory(code="SRC1-BASIC", name="基础团队", kind=Team.Kind.BASIC, tier=Tier.BACK, branch=source)
    basic2 = TeamFactory(code="SRC2-BASIC", name="基础团队二", kind=Team.Kind.BASIC, tier=Tier.BACK, branch=source2)
    return Org(
        city=city,
        service_branch=service_branch,
        hall=hall,
        hall2=hall2,
        source=source,
        source2=source2,
        hub=hub,
        online=online,
        dispatched=dispatched,
        basic=basic,
        basic2=basic2,
        clerk=StaffFactory(user__username="clerk", name="前台张", home_branch=hall, roles=[Role.CLERK]),
        coordinator=StaffFactory(
            user__username="coordinator",
            name="统筹李",
            home_branch=service_branch,
            roles=[Role.COORDINATOR],
            teams=[hub],
        ),
        member=StaffFactory(
            user__username="member", name="中台王", home_branch=service_branch, roles=[Role.TEAM_MEMBER], teams=[online]
        ),
        member2=StaffFactory(
            user__username="member2",
            name="中台赵",
            home_branch=service_branch,
            roles=[Role.TEAM_MEMBER],
            teams=[online],
        ),
        dispatched_member=StaffFactory(
            user__username="dispatched", name="派驻钱", home_branch=source, roles=[Role.TEAM_MEMBER], teams=[dispatched]
        ),
        back_member=StaffFactory(
            user__username="back", name="后台孙", home_branch=source, roles=[Role.TEAM_MEMBER], teams=[basic]
        ),
        back_member2=StaffFactory(
            user__username="back2", name="后台周", home_branch=source2, roles=[Role.TEAM_MEMBER], teams=[basic2]
        ),
        chief=StaffFactory(user__username="chief", name="分局长吴", home_branch=source, roles=[Role.BRANCH_CHIEF]),
        chief2=StaffFactory(user__username="chief2", name="分局长郑", home_branch=source2, roles=[Role.BRANCH_CHIEF]),
        expert=StaffFactory(user__username="expert", name="专家冯", home_branch=city, roles=[Role.EXPERT]),
        inspector=StaffFactory(
            user__username="inspector", name="质检陈", home_branch=city, roles=[Role.QUALITY_INSPECTOR]
        ),
        admin=StaffFactory(user__username="admin", name="管理员", home_branch=city, roles=[Role.ADMIN]),
        integrator=StaffFactory(user__username="integrator", name="接口", home_branch=city, roles=[Role.INTEGRATOR]),
    )


@pytest.fixture
def items(db):
    """One item of each shape the flows need."""
    return {
        "immediate": ItemFactory(
            code="I001",
            name="发票领用",
            handling_list=HandlingList.IMMEDIATE,
            tier=Tier.FRONT,
            team_kind=Team.Kind.HALL,
            time_limit_days=0,
        ),
        "assisted": ItemFactory(
            code="A001",
            name="跨区域涉税事项报告",
            handling_list=HandlingList.ASSISTED,
            tier=Tier.MIDDLE,
            team_kind=Team.Kind.ONLINE_PROCESSING,
            time_limit_days=3,
        ),
        "approval": ItemFactory(
            code="A002",
            name="发票额度调整审核",
            handling_list=HandlingList.ASSISTED,
            tier=Tier.MIDDLE,
            team_kind=Team.Kind.ONLINE_PROCESSING,
            time_limit_days=5,
            needs_approval=True,
        ),
        "moved_forward": ItemFactory(
            code="M001",
            name="纳税人归类管理",
            handling_list=HandlingList.ASSISTED,
            tier=Tier.MIDDLE,
            team_kind=Team.Kind.DISPATCHED,
            time_limit_days=5,
            moved_forward=True,
        ),
        "joint": ItemFactory(
            code="J001",
            name="清税注销实地核查",
            handling_list=HandlingList.JOINT,
            tier=Tier.BACK,
            team_kind=Team.Kind.BASIC,
            time_limit_days=10,
            needs_approval=True,
        ),
    }


@pytest.fixture
def taxpayer(org):
    return TaxpayerFactory(competent_branch=org.source)


@pytest.fixture
def open_case(org, taxpayer, items):
    """`open_case("assisted", "immediate", hall=org.hall2)` opens a case as the clerk."""

    def _open(*keys: str, hall: Branch | None = None, channel: str = "hall_window"):
        return services.case_open(
            actor=org.clerk,
            taxpayer=taxpayer.credit_code,
            channel=channel,
            hall=(hall or org.hall).code if channel == "hall_window" else "",
            items=[services.RequestedItem(item=items[key].code) for key in keys],
        )

    return _open


@pytest.fixture
def api(org):
    """`api(org.clerk)` is a REST client authenticated with a write token of that staff member."""
    from rest_framework.test import APIClient

    from taxservice.signin.services import token_create

    def _client(staff: Staff) -> APIClient:
        client = APIClient()
        key = token_create(actor=None, owner=staff, name="tests", scope="write").key
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return _client


# --- browser tests (see tests/browser.py) ----------------------------------------------------


@pytest.fixture
def shipped_routing_rules(transactional_db):
    """The routing rules the product ships, which an earlier transactional test may have flushed."""
    from django.apps import apps

    from taxservice.workflow.routing.models import RoutingRule

    if not RoutingRule.objects.exists():
        # As the migrations leave them: the shipped rules, the grid rule retargeted, the back office's robot.
        for migration in (
            "0002_default_rules",
            "0009_grid_rule_targets_taxpayer_grid",
            "0012_back_office_rules_dispatch_at_random",
        ):
            import_module(f"taxservice.workflow.routing.migrations.{migration}").load(apps, None)


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(browser_support.CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    # zh-CN is what a bureau's browsers send.
    context = browser.new_context(viewport=browser_support.VIEWPORT, locale="zh-CN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
    assert errors == [], f"JavaScript errors: {errors}"


@pytest.fixture
def open_task_counts_checked(db):
    """After the test, every Staff.open_tasks must equal what the tasks say (the services keep it)."""
    yield
    from taxservice.workflow.cases.assignments import staff_recount_open_tasks

    assert staff_recount_open_tasks() == 0, "Staff.open_tasks drifted from the tasks"

"""The demo's grids (网格): for every tax-source branch two streets or townships and three
grids, each with its own service group (a `grid` team) and leader; every demo taxpayer
given an address on its branch's streets and put in a grid by the grid rules (the
product's own `grid_rules_apply`, so each gets its history row); and a few grid tasks a
coordinator makes for a selection (`grid_tasks_create`, through intake, screening and
dispatch).

The existing grid staff (`grid1` … `grid3`) and their branch's grid team become the first
grid of their branch; the other grids get new groups and new logins (`grid1b` …), with the
demo password. Addresses come from a generator of their own, so the rest of the demo draws
the same numbers as before. `delete_demo_grids` removes all of it for the demo reset.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db.models import Q

from taxservice.audit import AppendOnly
from taxservice.grids.models import Area, Grid, GridImport, GridRule, GridRuleRun
from taxservice.org.models import Role, Staff, StaffRole, Team, Tier
from taxservice.taxpayers.grid_services import grid_rules_apply
from taxservice.taxpayers.models import Taxpayer, TaxpayerGridChange
from taxservice.workflow.routing.grid_tasks import grid_items, grid_tasks_create

from .organisation import DEMO_PASSWORD, Organisation

DISTRICT_AREA = ("DEMO-BJ", "滨江区")
# branch, street, grid number in the branch, grid name, the address text the grid's rule
# matches (None: the whole street, by the street's name), the places addresses are drawn from
GRIDS = (
    ("SRC1", "城东街道", 1, "城东街道网格", None, ("人民路", "解放路", "东湖路")),
    ("SRC1", "青山镇", 2, "青山村网格", "青山村", ("青山村",)),
    ("SRC1", "青山镇", 3, "竹林村网格", "竹林村", ("竹林村",)),
    ("SRC2", "城北街道", 1, "城北街道网格", None, ("北环路", "文晖路")),
    ("SRC2", "江滨街道", 2, "江滨一社区网格", "江滨一社区", ("江滨一社区",)),
    ("SRC2", "江滨街道", 3, "江滨二社区网格", "江滨二社区", ("江滨二社区",)),
    ("SRC3", "城西街道", 1, "城西街道网格", None, ("文化路", "西园路")),
    ("SRC3", "西湖镇", 2, "西湖镇新街网格", "新街", ("新街",)),
    ("SRC3", "西湖镇", 3, "西湖镇湖畔网格", "湖畔村", ("湖畔村",)),
)
# New grid staff: username, name, branch, grid number, leads the grid
NEW_STAFF = (
    ("grid1b", "孔令辉", "SRC1", 2, True),
    ("grid1c", "严晓琳", "SRC1", 2, False),
    ("grid1d", "金大伟", "SRC1", 3, True),
    ("grid2b", "魏春燕", "SRC2", 2, True),
    ("grid2c", "姜涛", "SRC2", 2, False),
    ("grid2d", "范丽娟", "SRC2", 3, True),
    ("grid3b", "方志远", "SRC3", 2, True),
    ("grid3c", "石慧", "SRC3", 2, False),
    ("grid3d", "邓建华", "SRC3", 3, True),
)
# The existing grid staff lead the first grid of their branch.
FIRST_LEADER = {"SRC1": "grid1", "SRC2": "grid2", "SRC3": "grid3"}
SEED_OFFSET = 11  # the addresses' own generator: seed + this


def grid_code(branch: str, number: int) -> str:
    return f"{branch}-G{number}"


def team_code(branch: str, number: int) -> str:
    return f"{branch}-GRID" if number == 1 else f"{branch}-GRID{number}"


def build_grids(*, seed: int, organisation: Organisation) -> list[Grid]:
    """Streets, grids, groups and grid staff; addresses for the demo taxpayers that have none;
    everyone put in a grid by the rules. Call inside the demo's transaction, after the taxpayers."""
    branches, teams = organisation.branches, organisation.teams
    district = Area.objects.create(code=DISTRICT_AREA[0], name=DISTRICT_AREA[1], level=Area.Level.DISTRICT)
    streets: dict[str, Area] = {}
    for branch, street, *_rest in GRIDS:
        if street not in streets:
            streets[street] = Area.objects.create(
                code=f"DEMO-{branch}-{len(streets) + 1}", name=street, level=Area.Level.STREET, parent=district
            )
    new_staff = _new_grid_staff(organisation)
    grids: list[Grid] = []
    for branch, street, number, name, match, _places in GRIDS:
        code = team_code(branch, number)
        team = teams.get(code)
        if team is None:
            team = Team.objects.create(
                code=code, name=f"{name}服务组", kind=Team.Kind.GRID, tier=Tier.GRID, branch=branches[branch]
            )
            teams[code] = team
        members = [s for s in new_staff if s[2] == branch and s[3] == number]
        for username, *_ in members:
            organisation.staff[username].teams.add(team)
        leader_name = FIRST_LEADER[branch] if number == 1 else next(u for u, *_, lead in members if lead)
        grid = Grid.objects.create(
            code=grid_code(branch, number),
            name=name,
            area=streets[street],
            branch=branches[branch],
            team=team,
            leader=organisation.staff[leader_name],
        )
        grids.append(grid)
        GridRule.objects.create(
            priority=10 if match else 20,
            area=None if match else streets[street],
            address_contains=f"{street}{match}" if match else "",
            competent_branch=branches[branch],
            grid=grid,
        )
        if members:
            organisation.members[team.pk] = [organisation.staff[u] for u, *_ in members]
    _reload_staff(organisation, [u for u, *_ in new_staff])
    _addresses(random.Random(seed + SEED_OFFSET), branches=list(FIRST_LEADER))
    grid_rules_apply(actor=None, reason="演示城市：按地址划分网格")
    return grids


def _new_grid_staff(organisation: Organisation) -> tuple[tuple[str, str, str, int, bool], ...]:
    user_model = get_user_model()
    password = make_password(DEMO_PASSWORD)
    user_model.objects.bulk_create([user_model(username=u, password=password) for u, *_ in NEW_STAFF])
    users = {u.username: u for u in user_model.objects.filter(username__in=[u for u, *_ in NEW_STAFF])}
    Staff.objects.bulk_create(
        [
            Staff(user=users[u], name=name, home_branch=organisation.branches[branch], capacity=15)
            for u, name, branch, _number, _lead in NEW_STAFF
        ]
    )
    created = {s.user.username: s for s in Staff.objects.filter(user__in=users.values()).select_related("user")}
    StaffRole.objects.bulk_create([StaffRole(staff=created[u], role=Role.TEAM_MEMBER) for u, *_ in NEW_STAFF])
    organisation.staff.update(created)
    return NEW_STAFF


def _reload_staff(organisation: Organisation, usernames: Iterable[str]) -> None:
    """Reload the new staff with what the policy reads, so its per-instance caches hold."""
    loaded = Staff.objects.filter(user__username__in=list(usernames)).select_related(
        "user", "home_branch", "home_branch__parent"
    )
    for member in loaded.prefetch_related("role_rows", "teams"):
        organisation.staff[member.user.username] = member
        organisation.staff_by_pk[member.pk] = member
    for team_pk, members in organisation.members.items():
        organisation.members[team_pk] = [organisation.staff_by_pk.get(m.pk, m) for m in members]


def _addresses(rng: random.Random, *, branches: list[str]) -> None:
    """An address on one of its branch's streets for every demo taxpayer without one."""
    places = {
        branch: [(street, place) for b, street, _n, _name, _match, ps in GRIDS if b == branch for place in ps]
        for branch in branches
    }
    payers = list(
        Taxpayer.objects.filter(competent_branch__code__in=branches, address="")
        .select_related("competent_branch")
        .order_by("credit_code")
    )
    for payer in payers:
        street, place = rng.choice(places[payer.competent_branch.code])
        payer.address = f"江城市{DISTRICT_AREA[1]}{street}{place}{rng.randint(1, 288)}号"
    Taxpayer.objects.bulk_update(payers, ["address"], batch_size=500)


def build_grid_tasks(*, rng: random.Random, organisation: Organisation, grids: list[Grid]) -> int:
    """A coordinator's grid tasks for a few selections (low grades in a grid, a reminder to
    file); returns how many were created."""
    items = list(grid_items()[:3])
    if not items:
        return 0
    coordinator = organisation.staff["coordinator1"]
    created = 0
    for grid in grids[::3]:  # the first grid of each branch
        item = rng.choice(items)
        selection = list(
            Taxpayer.objects.filter(grid=grid).order_by("credit_code").values_list("credit_code", flat=True)
        )
        if not selection:
            continue
        codes = rng.sample(selection, k=min(4, len(selection)))
        result = grid_tasks_create(
            actor=coordinator, grid_id=grid.pk, item=item.code, credit_codes=codes, notes="网格兜底：请联系纳税人"
        )
        created += len(result.created)
    return created


def delete_demo_grids(*, branches: list[int], taxpayers: list[int], staff: list[int]) -> None:
    """Everything `build_grids` made (call before the taxpayers, teams and staff are deleted)."""
    AppendOnly.purge(TaxpayerGridChange.objects.filter(taxpayer_id__in=taxpayers))
    Taxpayer.objects.filter(pk__in=taxpayers).update(grid=None)
    grids = Grid.objects.filter(branch_id__in=branches)
    GridRule.objects.filter(Q(grid__in=grids) | Q(competent_branch_id__in=branches)).delete()
    GridImport.objects.filter(uploaded_by_id__in=staff).delete()
    GridRuleRun.objects.filter(
        Q(started_by_id__in=staff) | Q(started_by__isnull=True, reason__startswith="演示")
    ).delete()
    grids.delete()
    Area.objects.filter(code__startswith="DEMO-", level=Area.Level.STREET).delete()
    Area.objects.filter(code=DISTRICT_AREA[0]).delete()

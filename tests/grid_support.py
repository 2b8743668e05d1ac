"""Grids for the grid tests: a district with two streets, three grids each with its own service
group (a `grid` team with one member, its leader), built on the `org` fixture's branches."""

from __future__ import annotations

from dataclasses import dataclass

from taxservice.grids.models import Area, Grid
from taxservice.org.models import Role, Staff, Team, Tier
from taxservice.taxpayers.grid_selectors import grade_field
from taxservice.taxpayers.models import Taxpayer
from tests.factories import StaffFactory, TaxpayerFactory, TeamFactory


@dataclass
class Grids:
    district: Area
    street1: Area
    street2: Area
    g1: Grid
    g2: Grid
    g3: Grid
    m1: Staff
    m2: Staff
    m3: Staff


def make_grids(org) -> Grids:
    district = Area.objects.create(code="A-D01", name="滨江区", level=Area.Level.DISTRICT)
    street1 = Area.objects.create(code="A-S1", name="长河街道", level=Area.Level.STREET, parent=district)
    street2 = Area.objects.create(code="A-S2", name="西兴街道", level=Area.Level.STREET, parent=district)
    made = {}
    for n, (street, branch) in enumerate([(street1, org.source), (street1, org.source), (street2, org.source2)], 1):
        team = TeamFactory(code=f"GT{n}", name=f"网格{n}服务组", kind=Team.Kind.GRID, tier=Tier.GRID, branch=branch)
        member = StaffFactory(
            user__username=f"gm{n}", name=f"网格员{n}", home_branch=branch, roles=[Role.TEAM_MEMBER], teams=[team]
        )
        grid = Grid.objects.create(
            code=f"G{n}", name=f"第{n}网格", area=street, branch=branch, team=team, leader=member
        )
        made[n] = (grid, member)
    return Grids(district, street1, street2, made[1][0], made[2][0], made[3][0], made[1][1], made[2][1], made[3][1])


def taxpayer_in(grid: Grid | None, **fields) -> Taxpayer:
    """A taxpayer put straight into a grid (fixture data, no history)."""
    branch = grid.branch if grid is not None else fields.pop("competent_branch")
    if "grade" in fields and grade_field() != "grade":
        fields[grade_field()] = fields["grade"]  # the grade grids work by, and the credit grade alike
    return TaxpayerFactory(competent_branch=branch, grid=grid, **fields)

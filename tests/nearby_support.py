"""A grid with its service group, a grid staff member and a taxpayer in the grid; a service point."""

from __future__ import annotations

from dataclasses import dataclass

from taxservice.grids.models import Area, Grid, ServicePoint
from taxservice.org.models import Role, Staff, Team, Tier
from taxservice.taxpayers.models import Taxpayer
from tests.factories import StaffFactory, TaxpayerFactory, TeamFactory


@dataclass
class GridSetup:
    grid: Grid
    grid_staff: Staff
    grid_staff2: Staff
    taxpayer: Taxpayer
    point: ServicePoint


def make_grid(org) -> GridSetup:
    district = Area.objects.create(code="A01", name="一区", level=Area.Level.DISTRICT)
    street = Area.objects.create(code="A0101", name="城东街道", level=Area.Level.STREET, parent=district)
    team = TeamFactory(
        code="GRID-01", name="城东一网格服务团队", kind=Team.Kind.GRID, tier=Tier.GRID, branch=org.source
    )
    grid_staff = StaffFactory(
        user__username="gridder", name="网格员王", home_branch=org.source, roles=[Role.TEAM_MEMBER], teams=[team]
    )
    grid_staff2 = StaffFactory(
        user__username="gridder2", name="网格员李", home_branch=org.source, roles=[Role.TEAM_MEMBER], teams=[team]
    )
    grid = Grid.objects.create(code="G01", name="城东一网格", area=street, branch=org.source, team=team)
    taxpayer = TaxpayerFactory(competent_branch=org.source, name="城东小店")
    Taxpayer.objects.filter(pk=taxpayer.pk).update(grid=grid)
    taxpayer.refresh_from_db()
    point = ServicePoint.objects.create(
        code="SP01",
        name="城东邮政便民点",
        address="人民路1号",
        partner=ServicePoint.Partner.POST_OFFICE,
        branch=org.hall,
    )
    point.grids.add(grid)
    return GridSetup(grid=grid, grid_staff=grid_staff, grid_staff2=grid_staff2, taxpayer=taxpayer, point=point)

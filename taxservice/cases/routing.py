"""Where a transferred task goes. A first, fixed version: routing rules as data come later.

- back-office items go to the competent tax-source branch's team of the item's team kind;
- moved-forward items go to the dispatched staff from the taxpayer's competent branch
  (territorial priority, 属地优先);
- other middle-office items go to the city team of the item's team kind;
- anything with no matching team goes to the task-coordination post.
"""

from __future__ import annotations

from taxservice.catalogue.models import Item
from taxservice.org.models import Team, Tier
from taxservice.taxpayers.models import Taxpayer


def coordination_post() -> Team | None:
    return Team.objects.filter(kind=Team.Kind.COORDINATION_POST).order_by("pk").first()


def route_transfer(*, item: Item, taxpayer: Taxpayer) -> tuple[str, Team | None]:
    """The (tier, team) a transferred task of `item` for `taxpayer` goes to."""
    team: Team | None = None
    tier = item.tier
    if item.moved_forward:
        tier = Tier.MIDDLE
        team = (
            Team.objects.filter(kind=Team.Kind.DISPATCHED, home_branch_id=taxpayer.competent_branch_id)
            .order_by("pk")
            .first()
        )
    elif item.tier == Tier.BACK:
        team = route_escalation(item=item, taxpayer=taxpayer)
    else:
        team = Team.objects.filter(kind=item.team_kind, tier=item.tier).order_by("pk").first()
    return tier, team or coordination_post()


def route_escalation(*, item: Item, taxpayer: Taxpayer) -> Team | None:
    """The competent branch's back-office team for the item, its basic team failing that."""
    teams = Team.objects.filter(branch_id=taxpayer.competent_branch_id, tier=Tier.BACK)
    return (
        teams.filter(kind=item.team_kind).order_by("pk").first()
        or teams.filter(kind=Team.Kind.BASIC).order_by("pk").first()
        or coordination_post()
    )

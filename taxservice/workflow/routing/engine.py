"""Screening (初筛): which rule covers a task, and which team that rule sends it to.

Pure reads. The rule table is small (tens of rows), so it is loaded whole and matched
in Python; the order is priority, then specificity (more match fields first), then id.
"""

from __future__ import annotations

from dataclasses import dataclass

from taxservice.catalogue.models import Item
from taxservice.org.models import Branch, Team, Tier
from taxservice.taxpayers.models import Taxpayer
from taxservice.workflow.routing.models import RoutingRule, Target


@dataclass(frozen=True)
class Classification:
    rule: RoutingRule | None
    tier: str
    team_kind: str
    team: Team | None
    # Why the task needs the coordination post's attention, or "" when it does not.
    flag: str = ""
    # Whether the robot dispatches it: high-frequency items, and whatever the rule says.
    auto_dispatch: bool = False


def rules_in_order() -> list[RoutingRule]:
    rules = list(RoutingRule.objects.filter(active=True))
    rules.sort(key=lambda rule: (rule.priority, -rule.specificity, rule.pk))
    return rules


def district_of(branch: Branch) -> int | None:
    """The district bureau a branch belongs to (its parent when that is a district)."""
    parent = branch.parent
    if branch.kind == Branch.Kind.DISTRICT:
        return branch.pk
    return parent.pk if parent is not None and parent.kind == Branch.Kind.DISTRICT else None


def select_rule(
    *, item: Item, source: str, taxpayer: Taxpayer, rules: list[RoutingRule] | None = None
) -> RoutingRule | None:
    return first_match(
        rules=rules if rules is not None else rules_in_order(),
        item=item,
        source=source,
        taxpayer=taxpayer,
        district_id=district_of(taxpayer.competent_branch),
    )


def first_match(
    *, rules: list[RoutingRule], item: Item, source: str, taxpayer, district_id: int | None
) -> RoutingRule | None:
    """The first of `rules` (already in order) that matches. `taxpayer` needs only
    `classification` and `grade`, so the robot can pass its lean task rows."""
    for rule in rules:
        if rule.matches(item=item, source=source, taxpayer=taxpayer, district_id=district_id):
            return rule
    return None


def coordination_post() -> Team | None:
    return Team.objects.filter(kind=Team.Kind.COORDINATION_POST).order_by("pk").first()


def resolve_team(*, rule: RoutingRule, item: Item, taxpayer: Taxpayer) -> Team | None:
    kind = rule.team_kind or item.team_kind
    if rule.target == Target.TEAM:
        # The team the rule names (a custom team for exclusive items), whatever the kind.
        return rule.team
    if rule.target == Target.CITY:
        return Team.objects.filter(kind=kind, branch__kind=Branch.Kind.CITY).order_by("pk").first()
    if rule.target == Target.COMPETENT_BRANCH:
        return Team.objects.filter(kind=kind, branch_id=taxpayer.competent_branch_id).order_by("pk").first()
    if rule.target == Target.TERRITORIAL:
        return (
            Team.objects.filter(kind=Team.Kind.DISPATCHED, home_branch_id=taxpayer.competent_branch_id)
            .order_by("pk")
            .first()
        )
    if rule.target == Target.TAXPAYER_GRID:
        # The grid's own group (Grid.team, reverse `grid`), whatever the rule's team kind.
        if taxpayer.grid_id is None:
            return None
        return Team.objects.filter(grid__pk=taxpayer.grid_id, grid__active=True).first()
    return coordination_post()


def classify(*, item: Item, source: str, taxpayer: Taxpayer) -> Classification:
    """The tier and team for a new task. Anything no rule or no team covers goes to the hub, flagged."""
    rule = select_rule(item=item, source=source, taxpayer=taxpayer)
    if rule is None:
        return Classification(
            rule=None,
            tier=Tier.MIDDLE,
            team_kind=Team.Kind.COORDINATION_POST,
            team=coordination_post(),
            flag="no_rule",
        )
    tier = rule.tier or item.tier
    kind = rule.team_kind or item.team_kind
    team = resolve_team(rule=rule, item=item, taxpayer=taxpayer)
    if team is None:
        flag = "territorial_fallback" if rule.target == Target.TERRITORIAL else "no_team"
        return Classification(rule=rule, tier=Tier.MIDDLE, team_kind=kind, team=coordination_post(), flag=flag)
    auto = (item.high_frequency or rule.auto_dispatch) and team.kind != Team.Kind.COORDINATION_POST
    return Classification(rule=rule, tier=tier, team_kind=kind, team=team, auto_dispatch=auto)


def is_branch_team(team: Team | None) -> bool:
    """A tax-source branch's back-office team (统筹/基础/风险/服务 or a custom one): work that
    reaches it is dispatched at random inside it by the robot unless its rule says manual."""
    return team is not None and team.tier == Tier.BACK and team.branch.kind == Branch.Kind.SOURCE


def escalation(*, item: Item, source: str, taxpayer: Taxpayer) -> Classification:
    """Where an escalated task goes and whether the robot dispatches it there.

    The team: the competent branch's back-office team of the item's kind, its basic team
    failing that, the coordination post failing both. The robot: a branch team is
    dispatched at random by default (the back-office fallback); the rule covering the task
    says otherwise only when it targets the back office with `auto_dispatch` off (manual).
    """
    teams = Team.objects.filter(branch_id=taxpayer.competent_branch_id, tier=Tier.BACK).select_related("branch")
    team = (
        teams.filter(kind=item.team_kind).order_by("pk").first()
        or teams.filter(kind=Team.Kind.BASIC).order_by("pk").first()
        or coordination_post()
    )
    rule = select_rule(item=item, source=source, taxpayer=taxpayer)
    says_manual = rule is not None and (rule.tier or item.tier) == Tier.BACK and not rule.auto_dispatch
    auto = is_branch_team(team) and (item.high_frequency or not says_manual)
    kind = team.kind if team is not None else Team.Kind.COORDINATION_POST
    return Classification(rule=rule, tier=Tier.BACK, team_kind=kind, team=team, auto_dispatch=auto)

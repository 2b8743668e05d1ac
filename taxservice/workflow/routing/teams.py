"""Custom teams (专属团队): a branch chief (their branch scope) or an administrator adds a team
of the `custom` kind to a tax-source branch's back office, names it and adds its members.

Work reaches it through a routing rule with the target `team` that names it (the routing
rules editor, `routing.services.rule_save`); inside it the robot dispatches at random like
in the branch's other teams. Lives in the workflow, not in `org`: it needs the access rules,
and `org` sits below `access` in the layers contract (docs/back-office.md).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from taxservice import access
from taxservice.changes.models import ChangeLog
from taxservice.changes.services import record_change, snapshot
from taxservice.errors import InvalidInput, NotFound
from taxservice.org.models import Branch, Staff, Team, Tier

NAME_MAX = 100


def branches_for_teams(*, actor: Staff) -> QuerySet[Branch]:
    """The tax-source branches `actor` may add a team to: all for an administrator, a chief's scope."""
    access.require(access.can_add_teams, actor)
    branches = Branch.objects.filter(kind=Branch.Kind.SOURCE).order_by("code")
    if actor.has_role(access.R.ADMIN):
        return branches
    return branches.filter(pk__in=access.staff_branch_scope(actor))


def team_list(*, actor: Staff) -> QuerySet[Team]:
    """The back-office teams of the branches `actor` manages, with their members."""
    return (
        Team.objects.filter(branch__in=branches_for_teams(actor=actor), tier=Tier.BACK)
        .select_related("branch")
        .prefetch_related("members")
        .order_by("branch__code", "kind", "code")
    )


def member_choices(*, branch: Branch) -> QuerySet[Staff]:
    """Who may join a team of the branch: its own staff."""
    return Staff.objects.filter(home_branch=branch).select_related("user").order_by("name", "pk")


def team_create(*, actor: Staff, branch: str, name: str, members: list[int] | None = None) -> Team:
    """Add a custom team (tier back) to a tax-source branch, named, with members of that branch.

    The branch is named by code; a chief's branch by default. Another branch's is 404 for a
    chief; bad input writes nothing."""
    access.require(access.can_add_teams, actor)
    errors: dict[str, list[str]] = {}
    code = (branch or "").strip()
    if not code and not actor.has_role(access.R.ADMIN):
        code = actor.home_branch.code
    found = Branch.objects.filter(code=code).first() if code else None
    if found is not None and not access.may_manage_branch(actor, found.pk):
        raise NotFound(_("No branch %(code)s.") % {"code": code})
    if found is None:
        errors["branch"] = [_("No branch has this code.") if code else _("Required.")]
    elif found.kind != Branch.Kind.SOURCE:
        errors["branch"] = [_("Custom teams belong to a tax-source branch.")]
    text = (name or "").strip()
    if not text:
        errors["name"] = [_("Required.")]
    elif len(text) > NAME_MAX:
        errors["name"] = [_("At most %(n)s characters.") % {"n": NAME_MAX}]
    elif found is not None and Team.objects.filter(branch=found, name=text).exists():
        errors["name"] = [_("The branch already has a team of this name.")]
    ids = sorted(set(members or []))
    people = list(Staff.objects.filter(pk__in=ids)) if ids else []
    if found is not None and (len(people) != len(ids) or any(p.home_branch_id != found.pk for p in people)):
        errors["members"] = [_("Members are staff of the branch.")]
    if errors:
        raise InvalidInput(_("The team was not added."), code="invalid", fields=errors)
    assert found is not None
    with transaction.atomic():
        # Codes are unique: the branch's next free custom code (the branch row serialises them).
        Branch.objects.select_for_update(no_key=True).filter(pk=found.pk).get()
        n = Team.objects.filter(branch=found, kind=Team.Kind.CUSTOM).count() + 1
        while Team.objects.filter(code=f"{found.code}-CUSTOM{n}").exists():
            n += 1
        team = Team.objects.create(
            code=f"{found.code}-CUSTOM{n}", name=text, kind=Team.Kind.CUSTOM, tier=Tier.BACK, branch=found
        )
        team.members.add(*people)
        record_change(
            actor=actor,
            obj=team,
            action=ChangeLog.Action.CREATED,
            before={},
            after=snapshot(team, ["code", "name", "kind", "tier", "branch", "members"]),
        )
    return team


def team_add_members(*, actor: Staff, team_id: int, members: list[int]) -> Team:
    """Add staff of the team's branch to a custom team; another branch's team is 404."""
    access.require(access.can_add_teams, actor)
    with transaction.atomic():
        team = Team.objects.select_for_update(no_key=True).filter(pk=team_id, kind=Team.Kind.CUSTOM).first()
        if team is None or not access.may_manage_branch(actor, team.branch_id):
            raise NotFound(_("No team %(id)s.") % {"id": team_id})
        ids = sorted(set(members))
        people = list(Staff.objects.filter(pk__in=ids, home_branch_id=team.branch_id))
        if not ids or len(people) != len(ids):
            raise InvalidInput(
                _("The members were not added."),
                code="invalid",
                fields={"members": [_("Members are staff of the branch.")]},
            )
        before = snapshot(team, ["members"])
        team.members.add(*people)
        record_change(
            actor=actor, obj=team, action=ChangeLog.Action.CHANGED, before=before, after=snapshot(team, ["members"])
        )
    return team

"""Writes of the grids' own data: the grid rules (which address goes to which grid).

Assigning taxpayers to grids writes taxpayers, so it lives a layer up, in
taxservice/taxpayers/grid_services.py (by hand, by the rules, by import).
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from taxservice import access
from taxservice.errors import InvalidInput, NotFound
from taxservice.grids.models import Area, Grid, GridRule
from taxservice.org.models import Branch, Staff


def grid_rule_create(
    *,
    actor: Staff | None,
    grid_code: str,
    priority: int = 100,
    area_code: str = "",
    address_contains: str = "",
    competent_branch_code: str = "",
) -> GridRule:
    """Add a grid rule. It matches on the area's name in the address, on a text in the
    address, or both; at least one of the two is required."""
    access.require(access.can_apply_grid_rules, actor)
    errors: dict[str, list[str]] = {}
    grid = Grid.objects.filter(code=grid_code, active=True).first()
    if grid is None:
        errors["grid"] = [_("No active grid %(code)s.") % {"code": grid_code}]
    area = Area.objects.filter(code=area_code).first() if area_code else None
    if area_code and area is None:
        errors["area"] = [_("No district or street %(code)s.") % {"code": area_code}]
    address_contains = address_contains.strip()
    if area is None and not address_contains and "area" not in errors:
        errors["address_contains"] = [_("Give a district or street, or a text the address contains.")]
    branch = Branch.objects.filter(code=competent_branch_code).first() if competent_branch_code else None
    if competent_branch_code and branch is None:
        errors["competent_branch"] = [_("No branch %(code)s.") % {"code": competent_branch_code}]
    if not 0 <= priority <= 32767:
        errors["priority"] = [_("A priority is a number from 0 to 32767.")]
    if errors or grid is None:
        raise InvalidInput(_("The grid rule was not saved."), fields=errors)
    with transaction.atomic():
        return GridRule.objects.create(
            grid=grid,
            priority=priority,
            area=area,
            address_contains=address_contains,
            competent_branch=branch,
            created_by=actor,
        )


def grid_rule_deactivate(*, actor: Staff | None, rule_id: int) -> GridRule:
    access.require(access.can_apply_grid_rules, actor)
    with transaction.atomic():
        rule = GridRule.objects.select_for_update().filter(pk=rule_id).first()
        if rule is None:
            raise NotFound(_("No grid rule %(id)s.") % {"id": rule_id})
        rule.active = False
        rule.save(update_fields=["active"])
        return rule

"""Grid tasks (网格兜底) made in bulk by a coordinator: one task per taxpayer of a selection,
through the hub's own intake, screening and dispatch.

A selection is a grid's taxpayers narrowed by grade, classification and an explicit list
of credit codes; its size is checked against MAX_SELECTION before anything is written.
Each taxpayer gets a task by `task_intake(source="grid")` (a duplicate of an open task is
merged, as for any intake), screened by the routing rules. A task screening leaves
somewhere other than the grid's group is rerouted there. Then it is dispatched in the
grid's group: by the robot after the commit when screening marked it for the robot, by
the pipeline now (`task_dispatch`, the coordinator's decision record) otherwise. All or
nothing: one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from taxservice import access
from taxservice.catalogue.models import Item
from taxservice.errors import InvalidInput, NotFound
from taxservice.grids.models import Grid
from taxservice.org.models import Staff, Team, Tier
from taxservice.taxpayers.grid_selectors import MAX_SELECTION, codes_outside_grid, grid_selection
from taxservice.workflow.cases.models import Task, TaskState
from taxservice.workflow.cases.services import task_transition
from taxservice.workflow.routing.services import task_dispatch, task_intake


@dataclass
class GridTasksResult:
    grid: Grid
    item: Item
    selected: int = 0
    created: list[int] = field(default_factory=list)
    merged: list[int] = field(default_factory=list)
    rerouted: int = 0
    dispatched_now: int = 0
    left_to_robot: int = 0
    batch: str = ""


def grid_items() -> QuerySet[Item]:
    """The items a grid task may be for: active items of the grid tier or for grid groups."""
    return Item.objects.filter(Q(tier=Tier.GRID) | Q(team_kind=Team.Kind.GRID), active=True).order_by("code")


def grid_tasks_create(
    *,
    actor: Staff,
    grid_id: int,
    item: str,
    grades: Sequence[str] = (),
    classifications: Sequence[str] = (),
    credit_codes: Sequence[str] = (),
    notes: str = "",
    limit: int = MAX_SELECTION,
) -> GridTasksResult:
    """One grid task per selected taxpayer, dispatched to the grid's service group."""
    access.require(access.can_create_grid_tasks, actor)
    grid = Grid.objects.select_related("team").filter(pk=grid_id).first()
    if grid is None:
        raise NotFound(_("No grid %(id)s.") % {"id": grid_id})
    if not grid.active:
        raise InvalidInput(_("Grid %(code)s is not active.") % {"code": grid.code}, code="grid_inactive")
    item_obj = grid_items().filter(code=item).first()
    if item_obj is None:
        raise InvalidInput(
            _("Item %(code)s is not a grid item.") % {"code": item},
            code="item_not_eligible",
            fields={"item": [_("Pick one of the grid items.")]},
        )
    codes = [code.strip() for code in credit_codes if code and code.strip()]
    if len(codes) > limit:
        raise InvalidInput(
            _("At most %(n)s taxpayers at a time.") % {"n": limit},
            code="selection_too_large",
            fields={"credit_codes": [_("Too many.")]},
        )
    outside = codes_outside_grid(grid_id=grid.pk, credit_codes=codes) if codes else []
    if outside:
        raise InvalidInput(
            _("Not taxpayers of grid %(grid)s: %(codes)s.") % {"grid": grid.code, "codes": ", ".join(outside[:20])},
            code="not_in_grid",
            fields={"credit_codes": [_("Not in this grid: %(codes)s") % {"codes": ", ".join(outside[:20])}]},
        )
    selection = grid_selection(grid_id=grid.pk, grades=grades, classifications=classifications, credit_codes=codes)
    count = selection.count()
    if count == 0:
        raise InvalidInput(_("No taxpayer of the grid matches the selection."), code="empty_selection")
    if count > limit:
        raise InvalidInput(
            _("The selection has %(count)s taxpayers; at most %(n)s at a time. Narrow it.")
            % {"count": count, "n": limit},
            code="selection_too_large",
        )
    result = GridTasksResult(grid=grid, item=item_obj, selected=count)
    result.batch = f"grid:{grid.code}:{timezone.now():%Y%m%d%H%M%S}"
    note = notes.strip() or _("Grid task for grid %(grid)s") % {"grid": grid.name}
    with transaction.atomic():
        for credit_code in selection.values_list("credit_code", flat=True):
            task, merged = task_intake(
                actor=actor,
                source=Task.Source.GRID,
                taxpayer=credit_code,
                item=item_obj.code,
                notes=note,
                batch=result.batch,
            )
            if merged:
                result.merged.append(task.pk)
                continue
            result.created.append(task.pk)
            if task.state == TaskState.QUEUED and task.team_id != grid.team_id:
                # Screening sent it elsewhere (a rule of another target, or no grid rule):
                # a grid task is the grid's. The system's step, with the reason on record.
                task = task_transition(
                    task_id=task.pk,
                    actor=None,
                    name="reroute",
                    team_code=grid.team.code,
                    reason=_("Grid task for grid %(grid)s") % {"grid": grid.code},
                )
                result.rerouted += 1
            if task.state != TaskState.QUEUED:
                continue
            if task.auto_dispatch:
                result.left_to_robot += 1  # the robot takes it after the commit
            else:
                task_dispatch(task_id=task.pk, actor=actor)
                result.dispatched_now += 1
    return result

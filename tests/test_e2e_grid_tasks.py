"""End to end in Debian's Chromium: a coordinator creates grid tasks for a selection of a grid's
taxpayers, and they are dispatched to the grid's service group.

Screenshots land in test-artifacts/ (grid-tasks-…). Drives /usr/bin/chromium; never runs
`playwright install`.
"""

from __future__ import annotations

import re

from tests.browser import BROWSER_MARKS, shot, sign_in

pytestmark = BROWSER_MARKS


def test_a_coordinator_creates_grid_tasks_for_a_selection_and_they_are_dispatched(page, live_server, org):
    from taxservice.catalogue.models import HandlingList
    from taxservice.org.models import Team, Tier
    from taxservice.workflow.cases.models import Task
    from taxservice.workflow.routing.models import DispatchDecision
    from tests.factories import ItemFactory
    from tests.grid_support import make_grids, taxpayer_in

    # The shipped rules as migrated (the `shipped_routing_rules` fixture): the grid rule sends
    # grid items to the taxpayer's grid.
    grids = make_grids(org)
    ItemFactory(
        code="G001",
        name="逾期申报提醒",
        handling_list=HandlingList.ASSISTED,
        tier=Tier.GRID,
        team_kind=Team.Kind.GRID,
        time_limit_days=3,
    )
    late = [taxpayer_in(grids.g1, grade="C", name=f"长河小微企业{n}有限公司") for n in range(3)]
    taxpayer_in(grids.g1, grade="A", name="长河优质企业有限公司")
    taxpayer_in(grids.g2, grade="C", name="另一网格企业有限公司")
    base = live_server.url

    sign_in(page, base, "coordinator")
    page.goto(base + "/grids/")
    page.wait_for_selector("#grid-list")
    assert page.locator("#grid-list tbody tr").count() == 3
    shot(page, "grid-tasks-1-grids")

    page.click("#grid-list a:has-text('G1')")
    page.wait_for_url(re.compile(r"/grids/G1/$"))
    assert "3" in page.inner_text("#grade-counts")
    page.select_option("#id_item", "G001")
    page.check("input[name=grades][value=C]")
    page.fill("#id_notes", "请于本月15日前完成申报")
    shot(page, "grid-tasks-2-selection", full_page=True)

    page.click("#grid-tasks-form button[type=submit]")
    page.wait_for_selector(".messages")
    assert "3" in page.inner_text(".messages")
    rows = page.locator("#grid-open-tasks tbody tr")
    assert rows.count() == 3
    for payer in late:
        assert payer.name in page.inner_text("#grid-open-tasks")
    assert page.inner_text("#grid-open-tasks").count(grids.m1.name) == 3
    shot(page, "grid-tasks-3-dispatched", full_page=True)

    tasks = Task.objects.filter(taxpayer__in=late)
    assert tasks.count() == 3
    assert set(tasks.values_list("source", "team", "state", "assignee")) == {
        ("grid", grids.g1.team_id, "assigned", grids.m1.pk)
    }
    decisions = DispatchDecision.objects.filter(task__in=tasks)
    assert set(decisions.values_list("actor", "team", "outcome")) == {
        (org.coordinator.pk, grids.g1.team_id, DispatchDecision.Outcome.ASSIGNED)
    }

    # The task page shows the decision record; the grid member finds it in their grid.
    page.click("#grid-open-tasks tbody tr >> nth=0 >> a")
    page.wait_for_url(re.compile(r"/tasks/\d+/$"))
    assert grids.m1.name in page.inner_text("body")
    shot(page, "grid-tasks-4-task")

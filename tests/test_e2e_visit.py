"""In Debian's Chromium: a grid staff member schedules a door-to-door visit (上门办) and
records its outcome. Screenshots: test-artifacts/grid-visit-*.png."""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone

from tests.browser import BROWSER_MARKS, shot, sign_in
from tests.nearby_support import make_grid

pytestmark = BROWSER_MARKS


def test_a_grid_staff_member_schedules_and_records_a_door_to_door_visit(page, live_server, org):
    from taxservice.workflow.nearby.models import Visit, VisitEvent

    setup = make_grid(org)
    base = live_server.url
    sign_in(page, base, "gridder")
    page.click("nav.mainnav a[href='/visits/']")
    page.wait_for_url(re.compile(r"/visits/$"))
    shot(page, "grid-visit-01-empty")

    # A typo in the credit code: refused, and what was typed stays.
    page.fill("#visit-schedule input[name=taxpayer]", "91XXXXXXXXXXXXXXXX")
    day = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    page.fill("#visit-schedule input[name=scheduled_for]", day)
    page.fill("#visit-schedule input[name=address]", "城东街道人民路1号")
    page.fill("#visit-schedule input[name=purpose]", "上门辅导电子税务局申报")
    page.click("#visit-schedule button[name=action][value=schedule]")
    page.locator("#visit-schedule .error-text").first.wait_for()
    assert page.input_value("#visit-schedule input[name=purpose]") == "上门辅导电子税务局申报"
    shot(page, "grid-visit-02-refused")

    page.fill("#visit-schedule input[name=taxpayer]", setup.taxpayer.credit_code)
    page.click("#visit-schedule button[name=action][value=schedule]")
    visit = Visit.objects.get()
    row = page.locator(f"#visit-{visit.pk}")
    row.wait_for()
    assert setup.taxpayer.name in row.inner_text()
    shot(page, "grid-visit-03-scheduled")

    row.locator("textarea[name=text]").fill("已现场辅导完成申报，纳税人掌握操作")
    row.locator("button[name=action][value=record]").click()
    page.locator(f"#visit-{visit.pk} textarea").wait_for(state="detached")
    assert "已现场辅导完成申报" in page.locator(f"#visit-{visit.pk}").inner_text()
    shot(page, "grid-visit-04-recorded")

    visit.refresh_from_db()
    assert visit.state == Visit.State.DONE and visit.recorded_by == setup.grid_staff
    assert list(VisitEvent.objects.filter(visit=visit).values_list("action", flat=True)) == ["schedule", "record"]

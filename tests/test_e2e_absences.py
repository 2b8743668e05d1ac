"""In Debian's Chromium: a branch chief declares a conflict of interest (回避) and leave for a
member of their branch (a bad credit code refused first, what was typed kept), withdraws
the leave, and adds a custom team on the teams page. Screenshots: test-artifacts/absences-*.png
and teams-*.png."""

from __future__ import annotations

from django.utils import timezone

from taxservice.org.models import Team
from taxservice.workflow.routing.models import StaffConflict, StaffLeave
from tests.browser import BROWSER_MARKS, shot, sign_in

pytestmark = BROWSER_MARKS


def test_a_chief_declares_a_conflict_and_leave_and_adds_a_custom_team(page, live_server, org, taxpayer):
    base = live_server.url
    page.set_default_navigation_timeout(60_000)  # the live server is slow on a busy machine
    sign_in(page, base, "chief")
    page.goto(f"{base}/staff/{org.back_member.pk}/absences/")
    form = page.locator("#conflict-new form")
    form.locator("input[name=taxpayer]").fill("91000000000000000X")
    form.locator("input[name=reason]").fill("配偶在该企业担任财务负责人")
    form.locator("button[type=submit]").click()
    form = page.locator("#conflict-new form")
    form.locator(".error-text").first.wait_for()
    assert form.locator("input[name=reason]").input_value() == "配偶在该企业担任财务负责人"
    shot(page, "absences-1-refused")
    form.locator("input[name=taxpayer]").fill(taxpayer.credit_code)
    form.locator("button[type=submit]").click()
    page.locator("#conflict-list", has_text=taxpayer.name).wait_for()

    today = timezone.localdate().isoformat()
    leave = page.locator("#leave-new form")
    leave.locator("input[name=starts_on]").fill(today)
    leave.locator("input[name=ends_on]").fill(today)
    leave.locator("input[name=reason]").fill("年休假")
    leave.locator("button[type=submit]").click()
    page.locator("#leave-list", has_text="年休假").wait_for()
    shot(page, "absences-2-declared", full_page=True)
    row = StaffLeave.objects.get()
    page.locator(f"#leave-{row.pk} input[name=reason]").fill("休假取消")
    page.locator(f"#leave-{row.pk} button[type=submit]").click()
    page.locator(f"#leave-{row.pk}", has_text="休假取消").wait_for()
    row.refresh_from_db()
    assert row.withdrawn_by == org.chief
    assert StaffConflict.objects.get().declared_by == org.chief

    page.goto(f"{base}/teams/")
    team_form = page.locator("#team-new form")
    team_form.locator("input[name=name]").fill("出口退税专属团队")
    team_form.locator(f"input[name=members][value='{org.back_member.pk}']").check()
    team_form.locator("button[type=submit]").click()
    page.locator("#team-list", has_text="出口退税专属团队").wait_for()
    shot(page, "teams-1-added", full_page=True)
    assert list(Team.objects.get(kind=Team.Kind.CUSTOM).members.all()) == [org.back_member]

"""End to end in Debian's Chromium: a consultation from the counter to the closed case.

Run with `pytest -m browser`. Screenshots of the key screens land in test-artifacts/.
Never runs `playwright install`: it drives /usr/bin/chromium, and skips without it.
"""

from __future__ import annotations

import re

from tests.browser import BROWSER_MARKS, shot, sign_in

pytestmark = BROWSER_MARKS


def sign_out(page) -> None:
    page.click("form[action$='/logout/'] button[type=submit]")
    page.wait_for_url(re.compile(r"/login/"))


def pick(page, code: str) -> None:
    """Find an item in the picker by its code and add it to the consultation."""
    page.fill("#picker-q", code)
    button = page.locator(f"#picker-results button.picker-add[data-code='{code}']")
    button.wait_for()
    button.click()
    page.locator(f"#chosen-items input[name=items][value='{code}']").wait_for(state="attached")
    # The picker refreshes itself (HX-Trigger: chosenChanged) and greys out what is chosen.
    page.locator(f"#picker-results button.picker-add[data-code='{code}'][disabled]").wait_for()


def test_a_consultation_from_the_counter_to_the_closed_case(page, live_server, org, items, taxpayer):
    from taxservice.workflow.cases.models import Case, TaskState

    base = live_server.url

    # --- the clerk at the hall window
    sign_in(page, base, "clerk")
    assert page.locator(".topbar").inner_text().count("前台张") == 1
    shot(page, "01-home-clerk")
    page.click("nav.mainnav >> text=前台")
    page.fill("input[name=q]", taxpayer.credit_code)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"\?q="))
    assert taxpayer.name in page.inner_text("main")
    shot(page, "02-frontdesk-search")
    page.click("main table a.btn >> text=受理办问协同")
    page.wait_for_url(re.compile(r"/frontdesk/taxpayers/.+/open/"))

    page.select_option("select[name=channel]", "hall_window")
    assert page.input_value("select[name=hall]") == org.hall.code
    page.fill("textarea[name=notes]", "纳税人来厅领用发票并咨询跨区域涉税事项报告")
    page.locator("#picker-results .picker-group").first.wait_for()
    pick(page, items["immediate"].code)
    pick(page, items["assisted"].code)
    assert page.locator("#chosen-items .chosen-item").count() == 2
    shot(page, "03-open-consultation")
    page.click("#open-case button[type=submit]")
    page.wait_for_url(re.compile(r"/frontdesk/cases/\d+/$"))
    case = Case.objects.get()
    assert "已受理办问协同" in page.inner_text(".messages")
    shot(page, "04-consultation-opened")

    immediate = case.tasks.get(item=items["immediate"])
    assisted = case.tasks.get(item=items["assisted"])
    row = page.locator(f"#task-row-{immediate.pk}")
    row.locator("input[name=result]").fill("已当场发放发票25份")
    row.locator("button", has_text="当场办结").click()
    page.locator(f"#task-row-{immediate.pk} .state-closed").wait_for()
    row = page.locator(f"#task-row-{assisted.pk}")
    row.locator("button", has_text="受理并转办").click()
    page.locator(f"#task-row-{assisted.pk} .state-queued").wait_for()
    assert "当场办结：已完成" not in page.inner_text(f"#task-row-{assisted.pk}")
    shot(page, "05-consultation-handled-and-transferred")
    assisted.refresh_from_db()
    assert assisted.state == TaskState.QUEUED and assisted.team == org.online
    sign_out(page)

    # --- a member of the online-processing team in the middle office
    sign_in(page, base, "member")
    shot(page, "06-home-member")
    page.click("nav.mainnav >> text=中台任务队列")
    row = page.locator("table.grid tbody tr", has_text=f"T{assisted.pk}")
    assert "排队中" in row.inner_text()
    shot(page, "07-middle-office-queue")
    row.locator("button", has_text="分派给我").click()
    page.wait_for_load_state()
    assert "分派：已完成" in page.inner_text(".messages")
    page.click(f"a[href='/tasks/{assisted.pk}/']")
    page.wait_for_url(re.compile(rf"/tasks/{assisted.pk}/$"))
    shot(page, "08-task-assigned")
    page.click("form.step-accept button[type=submit]")
    page.wait_for_url(re.compile(rf"/tasks/{assisted.pk}/$"))
    assert "接单：已完成" in page.inner_text(".messages")
    page.fill("form.step-complete textarea[name=result]", "已完成跨区域涉税事项报告")
    shot(page, "09-task-in-progress")
    page.click("form.step-complete button[type=submit]")
    page.wait_for_selector("form.step-give_feedback")
    page.fill("form.step-give_feedback textarea[name=result]", "已通过电话告知纳税人办理结果")
    page.select_option("form.step-give_feedback select[name=channel]", "phone_12366")
    page.click("form.step-give_feedback button[type=submit]")
    page.wait_for_selector(".messages >> text=反馈纳税人：已完成")
    shot(page, "10-task-closed")

    # --- the case is closed and its page replays every step of every task
    page.click(f"a[href='/cases/{case.pk}/']")
    page.wait_for_url(re.compile(rf"/cases/{case.pk}/$"))
    facts = page.inner_text("#case-facts")
    assert "已关闭" in facts
    history = page.inner_text(f"#task-{assisted.pk} table.history")
    for text in (
        "受理",
        "转办",
        "分派",
        "接单",
        "办结",
        "反馈纳税人",
        "前台张",
        "中台王",
        "已通过电话告知纳税人办理结果",
    ):
        assert text in history
    assert "已当场发放发票25份" in page.inner_text(f"#task-{immediate.pk} table.history")
    shot(page, "11-case-closed-history")
    case.refresh_from_db()
    assert case.state == Case.State.CLOSED
    assert list(assisted.transitions.values_list("transition", flat=True)) == [
        "receive",
        "transfer",
        "assign",
        "accept",
        "complete",
        "give_feedback",
    ]


def test_the_other_screens_fit_the_desk_screen(page, live_server, org, items, open_case):
    """The approval queue, the case list, a refused step and the English pages, for the eye."""
    from taxservice.workflow.cases import services

    case = open_case("joint", "immediate")
    joint = case.tasks.get(item=items["joint"])
    services.task_transition(task_id=joint.pk, actor=org.clerk, name="transfer")
    joint.refresh_from_db()
    # The robot may have dispatched it to the branch team's only member already (随机派单).
    for name in ("assign", "accept") if joint.state == "queued" else ("accept",):
        services.task_transition(task_id=joint.pk, actor=org.back_member, name=name)
    services.task_transition(
        task_id=joint.pk, actor=org.back_member, name="submit_for_approval", result="实地核查无异常"
    )

    base = live_server.url
    sign_in(page, base, "chief")
    shot(page, "20-home-chief")
    page.click("nav.mainnav >> text=审批队列")
    shot(page, "21-approval-queue")
    row = page.locator("table.grid tbody tr", has_text=f"T{joint.pk}")
    row.locator("button", has_text="驳回").click()
    page.wait_for_load_state()
    assert "此步骤必须填写理由" in page.inner_text(".messages")
    shot(page, "22-approval-reject-refused")
    page.goto(base + f"/tasks/{joint.pk}/")
    shot(page, "23-task-awaiting-approval")
    page.goto(base + "/cases/")
    shot(page, "24-case-list")
    sign_out(page)

    sign_in(page, base, "clerk")
    page.goto(base + "/frontdesk/")
    page.fill("aside input[name=credit_code]", "9133010000000000-A")  # a lowercase code is normalised; a hyphen is not
    page.fill("aside input[name=name]", "新登记测试有限公司")
    page.select_option("aside select[name=competent_branch]", org.source.code)
    page.click("aside button[type=submit]")
    assert "只能使用半角数字和大写字母" in page.inner_text("aside")
    shot(page, "25-frontdesk-register-error")
    page.click(".lang-switch button[value=en]")
    page.wait_for_load_state()
    assert "Register a taxpayer" in page.inner_text("main")
    shot(page, "26-frontdesk-english")
    page.goto(base + f"/frontdesk/cases/{case.pk}/")
    shot(page, "27-consultation-english")

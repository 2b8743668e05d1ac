"""The counter shows the taxpayer's open items and recent cases before a new consultation."""

from __future__ import annotations

import pytest

from taxservice.org.models import Role
from taxservice.workflow.cases import selectors, services
from tests.factories import StaffFactory
from tests.test_services_transitions import drive

pytestmark = pytest.mark.usefixtures("open_task_counts_checked")


def test_the_open_case_page_shows_the_taxpayers_open_items_and_cases_from_any_hall(
    client, org, open_case, taxpayer, items
):
    here = open_case("assisted")
    clerk2 = StaffFactory(user__username="clerk2", name="前台二", home_branch=org.hall2, roles=[Role.CLERK])
    elsewhere = services.case_open(
        actor=clerk2,
        taxpayer=taxpayer.credit_code,
        channel="hall_window",
        hall=org.hall2.code,
        items=[services.RequestedItem(item=items["approval"].code)],
    )
    drive(org, here.tasks.get(), "queued")
    client.force_login(org.clerk.user)
    response = client.get(f"/frontdesk/taxpayers/{taxpayer.credit_code}/open/")
    assert response.status_code == 200
    story = response.context["story"]
    assert story.case_count == 2 and story.open_count == 2
    assert {case.pk for case in story.recent_cases} == {here.pk, elsewhere.pk}
    page = response.content.decode()
    assert "跨区域涉税事项报告" in page and "发票额度调整审核" in page
    # The case page opens where the clerk may see it; the other hall's number is shown, not linked.
    assert f'href="/cases/{here.pk}/"' in page
    assert f'href="/cases/{elsewhere.pk}/"' not in page and f"#{elsewhere.pk}" in page


def test_a_first_contact_says_so(client, org, taxpayer, items):
    story = selectors.taxpayer_story(staff=org.clerk, taxpayer_id=taxpayer.pk)
    assert (story.case_count, story.open_count, list(story.recent_cases)) == (0, 0, [])
    client.force_login(org.clerk.user)
    assert "首次" in client.get(f"/frontdesk/taxpayers/{taxpayer.credit_code}/open/").content.decode()


def test_a_lowercase_or_full_width_code_in_the_address_opens_the_taxpayers_page(client, org, taxpayer):
    client.force_login(org.clerk.user)
    typed = taxpayer.credit_code.lower().translate({c: c + 0xFEE0 for c in range(ord("0"), ord("9") + 1)})
    assert typed != taxpayer.credit_code  # lowercase, full-width digits
    response = client.get(f"/frontdesk/taxpayers/{typed}/open/")
    assert response.status_code == 302
    assert response["Location"].endswith(f"/frontdesk/taxpayers/{taxpayer.credit_code}/open/")

"""Every page needs a signed-in user with a staff record, and the right role where it says so."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _pages(case_id: int, task_id: int, credit_code: str) -> list[str]:
    return [
        reverse("home"),
        reverse("my_tasks"),
        reverse("case_list"),
        reverse("case_detail", args=[case_id]),
        reverse("task_detail", args=[task_id]),
        reverse("frontdesk:consult"),
        reverse("frontdesk:open_case", args=[credit_code]),
        reverse("frontdesk:item_picker"),
        reverse("frontdesk:chosen_items"),
        reverse("frontdesk:case", args=[case_id]),
        reverse("frontdesk:case_summary", args=[case_id]),
        reverse("middle_office:queue"),
        reverse("back_office:approvals"),
    ]


def test_it_sends_anonymous_visitors_to_the_login_page(client, open_case, taxpayer):
    case = open_case("assisted")
    for url in _pages(case.pk, case.tasks.get().pk, taxpayer.credit_code):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login") + "?next="), url


def test_it_refuses_posts_from_anonymous_visitors(client, open_case):
    task = open_case("assisted").tasks.get()
    for url in (reverse("task_step", args=[task.pk]), reverse("frontdesk:counter_step", args=[task.pk])):
        response = client.post(url, {"transition": "transfer"})
        assert response.status_code == 302
    task.refresh_from_db()
    assert task.state == "received"


def test_the_login_page_signs_in_and_logout_needs_a_post(client, org):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert "登录" in page.content.decode()
    response = client.post(reverse("login"), {"username": "clerk", "password": "pass12345"})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_a_wrong_password_is_refused_in_chinese(client, org):
    response = client.post(reverse("login"), {"username": "clerk", "password": "wrong"})
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()


def test_a_user_without_a_staff_record_gets_a_clear_403(client, org):
    user = UserFactory(username="nobody")
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 403
    assert "没有工作人员档案" in response.content.decode()
    assert get_user_model().objects.filter(username="nobody").exists()


@pytest.mark.parametrize(
    ("url_name", "allowed", "refused"),
    [
        ("frontdesk:consult", ["clerk", "admin"], ["member", "coordinator", "chief", "expert", "inspector"]),
        ("middle_office:queue", ["coordinator", "member", "expert", "admin"], ["clerk", "chief", "inspector"]),
        ("back_office:approvals", ["chief", "coordinator", "admin"], ["clerk", "member", "expert", "inspector"]),
    ],
)
def test_each_tier_screen_is_for_its_roles(client, org, url_name, allowed, refused):
    for who in allowed:
        client.force_login(getattr(org, who).user)
        assert client.get(reverse(url_name)).status_code == 200, who
    for who in refused:
        client.force_login(getattr(org, who).user)
        response = client.get(reverse(url_name))
        assert response.status_code == 403, who
        assert "此页面仅供" in response.content.decode()


def test_the_navigation_follows_the_roles(client, org):
    client.force_login(org.clerk.user)
    page = client.get(reverse("home")).content.decode()
    assert reverse("frontdesk:consult") in page
    assert reverse("middle_office:queue") not in page
    client.force_login(org.chief.user)
    page = client.get(reverse("home")).content.decode()
    assert reverse("back_office:approvals") in page
    assert reverse("frontdesk:consult") not in page


def test_the_top_bar_shows_name_roles_and_branch(client, org):
    client.force_login(org.clerk.user)
    page = client.get(reverse("home")).content.decode()
    assert "税务服务协同平台" in page
    assert "前台张" in page and "前台受理人员" in page and "第一办税厅" in page


def test_pages_are_in_simplified_chinese_by_default_and_switch_to_english(client, org, open_case):
    case = open_case("assisted")
    client.force_login(org.clerk.user)
    page = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    # From the committed .mo: a state label, a list label, a channel, a step name.
    assert "已接收" in page and "一问辅办" in page and "办税服务厅窗口" in page and "受理" in page
    assert 'lang="zh-hans"' in page
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert "Received" in page and "已接收" not in page

"""The top bar's search: numbers open what the person may see; words find taxpayers."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("open_task_counts_checked")


def test_a_task_or_case_number_opens_it_for_someone_who_may_see_it(client, org, open_case):
    case = open_case("assisted")
    task = case.tasks.get()
    client.force_login(org.clerk.user)
    assert client.get("/search/", {"q": f"T{task.pk}"})["Location"] == f"/tasks/{task.pk}/"
    assert client.get("/search/", {"q": f"#{case.pk}"})["Location"] == f"/cases/{case.pk}/"
    client.force_login(org.back_member2.user)  # another branch: the number opens nothing
    response = client.get("/search/", {"q": f"T{task.pk}"})
    assert response.status_code == 200 and response.context["number_not_found"]


def test_words_find_taxpayers_with_the_cases_the_person_may_open(client, org, open_case, taxpayer):
    case = open_case("assisted")
    client.force_login(org.clerk.user)
    response = client.get("/search/", {"q": taxpayer.name[:4]})
    assert [t.pk for t in response.context["page"].object_list] == [taxpayer.pk]
    assert f'href="/cases/{case.pk}/"' in response.content.decode()
    assert 'name="q"' in client.get("/").content.decode()  # the box is in the top bar


def test_an_overlong_query_is_cut_not_refused(client, org):
    client.force_login(org.clerk.user)
    response = client.get("/search/", {"q": "甲" * 500})
    assert response.status_code == 200 and len(response.context["search_query"]) == 100


def test_the_inbox_link_refreshes_itself_with_the_current_count(client, org, open_case):
    from taxservice.workflow.cases import services

    client.force_login(org.coordinator.user)
    assert 'hx-get="/inbox/link/"' in client.get("/").content.decode()
    before = client.get("/inbox/link/")
    assert before.status_code == 200 and 'data-unread="0"' in before.content.decode()
    task = open_case("assisted").tasks.get()
    services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
    services.task_transition(task_id=task.pk, actor=org.member, name="assign")
    services.task_comment_add(actor=org.member, task_id=task.pk, body="@coordinator 请看")
    assert 'data-unread="1"' in client.get("/inbox/link/").content.decode()

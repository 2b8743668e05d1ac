"""The inbox: notifications read by their recipient alone, as services, API and page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from taxservice.errors import NotFound
from taxservice.workflow.cases import inbox, services
from taxservice.workflow.cases.models import Notification, TaskTransition

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("open_task_counts_checked")]


def note_for(
    staff, task, *, read: bool = False, minutes_ago: int = 0, step: str = "assign", message: str = ""
) -> Notification:
    """A notification as `cases.notifications` writes one, with its own audit row."""
    log = TaskTransition.objects.create(task=task, transition=step, from_state="queued", to_state="assigned")
    now = timezone.now()
    return Notification.objects.create(
        recipient=staff,
        task=task,
        transition=log,
        message=message or f"Task T{task.pk} was assigned to you ({minutes_ago}).",
        created_at=now - timedelta(minutes=minutes_ago),
        read_at=now if read else None,
    )


@pytest.fixture
def task(open_case):
    return open_case("assisted").tasks.get()


# --- selectors and services ------------------------------------------------------------------


class TestInboxServices:
    def test_the_list_holds_only_the_callers_own_newest_first(self, org, task):
        old = note_for(org.member, task, minutes_ago=30)
        new = note_for(org.member, task, minutes_ago=1)
        note_for(org.member2, task)
        assert list(inbox.notification_list_for_staff(staff=org.member)) == [new, old]
        assert list(inbox.notification_list_for_staff(staff=org.member2).values_list("recipient", flat=True)) == [
            org.member2.pk
        ]

    def test_each_notification_carries_the_name_of_its_step(self, org, task):
        note_for(org.member, task, step="approve")
        (note,) = inbox.notification_list_for_staff(staff=org.member)
        assert note.transition_name == "approve"

    def test_unread_only_leaves_out_the_read_ones(self, org, task):
        unread = note_for(org.member, task)
        note_for(org.member, task, read=True)
        assert list(inbox.notification_list_for_staff(staff=org.member, unread_only=True)) == [unread]

    def test_the_unread_count_is_the_callers_unread_ones(self, org, task):
        note_for(org.member, task)
        note_for(org.member, task)
        note_for(org.member, task, read=True)
        note_for(org.member2, task)
        assert inbox.notification_unread_count(staff=org.member) == 2
        assert inbox.notification_unread_count(staff=org.clerk) == 0

    def test_marking_read_twice_keeps_the_first_read_time(self, org, task):
        note = note_for(org.member, task)
        first = inbox.notification_mark_read(staff=org.member, notification_id=note.pk)
        assert first.read_at is not None
        again = inbox.notification_mark_read(staff=org.member, notification_id=note.pk)
        assert again.read_at == first.read_at
        assert inbox.notification_unread_count(staff=org.member) == 0

    def test_someone_elses_notification_is_not_found_and_stays_unread(self, org, task):
        theirs = note_for(org.member2, task)
        with pytest.raises(NotFound):
            inbox.notification_mark_read(staff=org.member, notification_id=theirs.pk)
        theirs.refresh_from_db()
        assert theirs.read_at is None

    def test_an_id_that_does_not_exist_is_not_found_either(self, org, task):
        with pytest.raises(NotFound) as missing:
            inbox.notification_mark_read(staff=org.member, notification_id=10**9)
        theirs = note_for(org.member2, task)
        with pytest.raises(NotFound) as foreign:
            inbox.notification_mark_read(staff=org.member, notification_id=theirs.pk)
        # The same answer either way, bar the id itself: nothing tells the two apart.
        assert (missing.value.code, missing.value.status) == ("not_found", 404)
        assert (foreign.value.code, foreign.value.status) == ("not_found", 404)

    def test_mark_all_read_marks_only_the_callers_own(self, org, task):
        note_for(org.member, task)
        note_for(org.member, task)
        already = note_for(org.member, task, read=True)
        theirs = note_for(org.member2, task)
        assert inbox.notification_mark_all_read(staff=org.member) == 2
        assert inbox.notification_mark_all_read(staff=org.member) == 0
        assert inbox.notification_unread_count(staff=org.member) == 0
        assert Notification.objects.get(pk=already.pk).read_at == already.read_at
        assert Notification.objects.get(pk=theirs.pk).read_at is None

    def test_an_assignment_lands_in_the_assignees_inbox(self, org, task, django_capture_on_commit_callbacks):
        services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
        with django_capture_on_commit_callbacks(execute=True):
            services.task_transition(task_id=task.pk, actor=org.member, name="assign")
        (note,) = inbox.notification_list_for_staff(staff=org.member, unread_only=True)
        assert (note.task_id, note.transition_name) == (task.pk, "assign")


# --- API ----------------------------------------------------------------------------------------


class TestInboxApi:
    def test_it_lists_the_callers_own_paginated_with_each_field(self, api, org, task):
        note = note_for(org.member, task, step="reject")
        note_for(org.member2, task)
        body = api(org.member).get("/api/v1/notifications/").json()
        assert body["count"] == 1
        assert body["results"] == [
            {
                "id": note.pk,
                "task": task.pk,
                "transition": "reject",
                "message": note.message,
                "created_at": body["results"][0]["created_at"],
                "read_at": None,
            }
        ]
        assert body["results"][0]["created_at"]

    def test_unread_true_keeps_the_unread_ones(self, api, org, task):
        unread = note_for(org.member, task)
        read = note_for(org.member, task, read=True)
        client = api(org.member)
        assert [row["id"] for row in client.get("/api/v1/notifications/?unread=true").json()["results"]] == [unread.pk]
        assert {row["id"] for row in client.get("/api/v1/notifications/?unread=false").json()["results"]} == {
            unread.pk,
            read.pk,
        }

    def test_a_malformed_unread_filter_is_a_400_with_a_code(self, api, org):
        response = api(org.member).get("/api/v1/notifications/?unread=maybe")
        assert response.status_code == 400
        assert response.json()["code"] == "invalid" and "unread" in response.json()["fields"]

    def test_marking_read_answers_the_notification_and_twice_is_harmless(self, api, org, task):
        note = note_for(org.member, task)
        client = api(org.member)
        first = client.post(f"/api/v1/notifications/{note.pk}/read/")
        assert first.status_code == 200
        assert first.json()["id"] == note.pk and first.json()["read_at"] is not None
        again = client.post(f"/api/v1/notifications/{note.pk}/read/")
        assert again.status_code == 200 and again.json()["read_at"] == first.json()["read_at"]
        assert client.get("/api/v1/notifications/?unread=true").json()["count"] == 0

    def test_someone_elses_id_is_a_404_with_a_code(self, api, org, task):
        theirs = note_for(org.member2, task)
        response = api(org.member).post(f"/api/v1/notifications/{theirs.pk}/read/")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
        theirs.refresh_from_db()
        assert theirs.read_at is None

    @pytest.mark.parametrize("raw", ["abc", str(2**64)])
    def test_an_id_that_is_no_number_is_a_404_with_a_code(self, api, org, raw):
        response = api(org.member).post(f"/api/v1/notifications/{raw}/read/")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"

    def test_read_all_marks_the_callers_own_and_says_how_many(self, api, org, task):
        note_for(org.member, task)
        note_for(org.member, task)
        theirs = note_for(org.member2, task)
        response = api(org.member).post("/api/v1/notifications/read-all/")
        assert response.status_code == 200 and response.json() == {"marked": 2}
        assert api(org.member).post("/api/v1/notifications/read-all/").json() == {"marked": 0}
        theirs.refresh_from_db()
        assert theirs.read_at is None

    def test_anonymous_callers_get_401_with_a_code(self, client, org):
        response = client.get("/api/v1/notifications/")
        assert response.status_code == 401 and response.json()["code"] == "not_authenticated"

    def test_the_schema_documents_the_endpoints(self, api, org):
        schema = api(org.member).get("/api/schema/").content.decode()
        for path in (
            "/api/v1/notifications/:",
            "/api/v1/notifications/{id}/read/:",
            "/api/v1/notifications/read-all/:",
        ):
            assert path in schema
        assert "NotificationsMarkedRead" in schema


# --- the page and the top bar ---------------------------------------------------------------------


def unread_badge(html: str) -> str:
    match = re.search(r'id="inbox-link"[^>]*data-unread="(\d+)"', html)
    assert match, "no inbox link in the top bar"
    return match.group(1)


class TestInboxPage:
    def test_it_needs_a_login(self, client, org):
        response = client.get(reverse("inbox"))
        assert response.status_code == 302 and reverse("login") in response["Location"]

    def test_it_lists_only_mine_with_the_unread_ones_marked_in_words(self, client, org, task):
        client.cookies["django_language"] = "en"
        unread = note_for(org.member, task, minutes_ago=1)
        read = note_for(org.member, task, read=True, minutes_ago=5)
        theirs = note_for(org.member2, task)
        client.force_login(org.member.user)
        response = client.get(reverse("inbox"))
        assert list(response.context["page"].object_list) == [unread, read]
        html = response.content.decode()
        assert f'id="notification-{theirs.pk}"' not in html
        row = re.search(rf'<tr id="notification-{unread.pk}".*?</tr>', html, re.S).group(0)
        assert "inbox-row-unread" in row and "Unread" in row and "Mark read" in row
        assert f'href="{reverse("task_detail", args=[task.pk])}"' in row
        row = re.search(rf'<tr id="notification-{read.pk}".*?</tr>', html, re.S).group(0)
        assert "inbox-row-unread" not in row and "Read" in row and "Mark read" not in row

    def test_the_unread_filter(self, client, org, task):
        unread = note_for(org.member, task)
        note_for(org.member, task, read=True)
        client.force_login(org.member.user)
        response = client.get(reverse("inbox"), {"show": "unread"})
        assert list(response.context["page"].object_list) == [unread]
        assert response.context["show"] == "unread"

    def test_it_pages_like_the_other_lists(self, client, org, task):
        notes = [note_for(org.member, task, minutes_ago=minutes) for minutes in range(27)]
        client.force_login(org.member.user)
        page2 = client.get(reverse("inbox"), {"page": 2}).context["page"]
        assert list(page2.object_list) == notes[25:]
        assert page2.paginator.num_pages == 2

    def test_mark_read_without_javascript_goes_back_to_the_same_view(self, client, org, task):
        note = note_for(org.member, task)
        client.force_login(org.member.user)
        response = client.post(reverse("inbox_mark_read", args=[note.pk]), {"show": "unread", "page": "2"})
        assert response.status_code == 302
        assert response["Location"] == reverse("inbox") + "?show=unread&page=2"
        note.refresh_from_db()
        assert note.read_at is not None

    def test_mark_read_with_htmx_answers_the_row_and_the_new_count(self, client, org, task):
        note = note_for(org.member, task)
        note_for(org.member, task)
        client.force_login(org.member.user)
        response = client.post(reverse("inbox_mark_read", args=[note.pk]), HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        html = response.content.decode()
        assert html.lstrip().startswith(f'<tr id="notification-{note.pk}"')
        assert "inbox-row-unread" not in html
        assert 'hx-swap-oob="true"' in html and unread_badge(html) == "1"

    def test_someone_elses_notification_is_a_404_and_is_left_alone(self, client, org, task):
        theirs = note_for(org.member2, task)
        client.force_login(org.member.user)
        assert client.post(reverse("inbox_mark_read", args=[theirs.pk])).status_code == 404
        theirs.refresh_from_db()
        assert theirs.read_at is None

    def test_marking_takes_a_post(self, client, org, task):
        note = note_for(org.member, task)
        client.force_login(org.member.user)
        assert client.get(reverse("inbox_mark_read", args=[note.pk])).status_code == 405
        assert client.get(reverse("inbox_mark_all_read")).status_code == 405
        note.refresh_from_db()
        assert note.read_at is None

    def test_mark_all_read(self, client, org, task):
        client.cookies["django_language"] = "en"
        note_for(org.member, task)
        note_for(org.member, task)
        theirs = note_for(org.member2, task)
        client.force_login(org.member.user)
        response = client.post(reverse("inbox_mark_all_read"), {"show": "unread"}, follow=True)
        assert response.redirect_chain == [(reverse("inbox") + "?show=unread", 302)]
        assert "2 notifications marked read." in response.content.decode()
        assert inbox.notification_unread_count(staff=org.member) == 0
        theirs.refresh_from_db()
        assert theirs.read_at is None

    def test_the_top_bar_shows_the_unread_count_on_every_page(self, client, org, task):
        note_for(org.member, task)
        note_for(org.member, task)
        note_for(org.member, task, read=True)
        client.force_login(org.member.user)
        for name in ("home", "my_tasks", "case_list"):
            assert unread_badge(client.get(reverse(name)).content.decode()) == "2"
        inbox.notification_mark_all_read(staff=org.member)
        assert unread_badge(client.get(reverse("home")).content.decode()) == "0"

    def test_the_count_costs_one_query_per_page(self, client, org, task):
        note_for(org.member, task)
        client.force_login(org.member.user)
        table = Notification._meta.db_table
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("home"))
        assert len([q for q in queries if table in q["sql"]]) == 1

    def test_a_task_i_can_no_longer_see_answers_404_not_an_error(self, client, org, task):
        # back2 works in another branch: the task is not theirs to see (any more).
        note_for(org.back_member2, task)
        client.force_login(org.back_member2.user)
        html = client.get(reverse("inbox")).content.decode()
        link = reverse("task_detail", args=[task.pk])
        assert f'href="{link}"' in html
        assert client.get(link).status_code == 404

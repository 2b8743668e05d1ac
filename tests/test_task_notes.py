"""Notes on a task: between the people working it, with @mentions that land in the inbox."""

from __future__ import annotations

import pytest

from taxservice.errors import InvalidInput, NotFound
from taxservice.workflow.cases import services
from taxservice.workflow.cases.models import Notification, TaskComment
from tests.test_services_transitions import drive

pytestmark = pytest.mark.usefixtures("open_task_counts_checked")


@pytest.fixture
def task(org, open_case):
    return drive(org, open_case("assisted").tasks.get(), "in_progress")  # held by org.member (ONLINE)


def test_a_note_with_a_mention_lands_in_the_mentioned_persons_inbox(org, task):
    note = services.task_comment_add(actor=org.member, task_id=task.pk, body="请 @coordinator 看一下附件是否齐全")
    assert list(note.mentions.all()) == [org.coordinator]
    inbox = Notification.objects.get(recipient=org.coordinator)
    assert (inbox.comment, inbox.transition, inbox.task_id) == (note, None, task.pk)
    assert org.member.name in inbox.message and "附件" in inbox.message


def test_blank_overlong_and_bad_mentions_write_nothing(org, task, back_member=None):
    for body, code in [
        ("   ", "body_required"),
        ("字" * (services.COMMENT_MAX_CHARS + 1), "body_too_long"),
        ("@nobody 在吗", "bad_mention"),
        ("@back2 请协助", "bad_mention"),  # another branch's member may not see this task
        (" ".join(f"@u{i}" for i in range(services.COMMENT_MAX_MENTIONS + 1)), "too_many_mentions"),
    ]:
        with pytest.raises(InvalidInput) as refused:
            services.task_comment_add(actor=org.member, task_id=task.pk, body=body)
        assert refused.value.code == code, body[:20]
    assert not TaskComment.objects.exists() and not Notification.objects.filter(comment__isnull=False).exists()


def test_nobody_notes_a_task_they_cannot_see(org, task):
    with pytest.raises(NotFound):
        services.task_comment_add(actor=org.back_member2, task_id=task.pk, body="看不到的任务")


def test_the_task_page_shows_notes_and_keeps_a_refused_note(client, org, task):
    client.force_login(org.member.user)
    response = client.post(f"/tasks/{task.pk}/notes/", {"body": "@nobody 请回电"})
    assert response.status_code == 400
    assert "@nobody 请回电" in response.content.decode()  # what was typed is still in the box
    response = client.post(f"/tasks/{task.pk}/notes/", {"body": "已与纳税人约定周五补交"}, follow=True)
    assert response.status_code == 200
    assert "已与纳税人约定周五补交" in response.content.decode()


def test_the_api_lists_and_adds_notes(api, org, task):
    url = f"/api/v1/tasks/{task.pk}/notes/"
    created = api(org.member).post(url, {"body": "@coordinator 请复核"}, format="json")
    assert created.status_code == 201
    assert created.json()["mentions"] == [org.coordinator.pk]
    listed = api(org.coordinator).get(url).json()
    assert [note["body"] for note in listed] == ["@coordinator 请复核"]
    refused = api(org.member).post(url, {"body": ""}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "body_required"
    assert api(org.back_member2).get(url).status_code == 404


def test_a_mention_reads_as_a_note_in_the_inbox_api(api, org, task):
    services.task_comment_add(actor=org.member, task_id=task.pk, body="@coordinator 请复核")
    rows = api(org.coordinator).get("/api/v1/notifications/").json()["results"]
    assert [row["transition"] for row in rows] == ["note"]


def test_notes_and_the_case_log_are_append_only(org, task):
    from django.core.exceptions import ValidationError

    from taxservice.workflow.cases.models import CaseTransition, TaskTransition

    note = services.task_comment_add(actor=org.member, task_id=task.pk, body="第一次记录")
    for row in (note, CaseTransition.objects.first(), TaskTransition.objects.first()):
        with pytest.raises(ValidationError):
            row.save()
        with pytest.raises(ValidationError):
            row.delete()

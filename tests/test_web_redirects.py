"""`next` after a POST: one helper for every page, and it only ever goes back to this site."""

from __future__ import annotations

import pytest
from django.urls import reverse

from taxservice.workflow.cases import services

pytestmark = pytest.mark.django_db

OFF_SITE = [
    "https://evil.example/",
    "//evil.example/path",
    "/\\evil.example/path",
    "http://testserver/middle-office/hub/staff/",  # this host, but over http from an https page
    "https:evil.example",
    "/\t/evil.example",  # browsers drop the tab: //evil.example
    "javascript:alert(1)",
]


def _task_step(client, org, open_case, nxt, **extra):
    task = open_case("assisted").tasks.get()
    services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
    client.force_login(org.coordinator.user)
    # An unknown step is refused before anything is done, then redirected to `next` or the task.
    response = client.post(reverse("task_step", args=[task.pk]), {"transition": "nope", "next": nxt}, **extra)
    return response, reverse("task_detail", args=[task.pk])


def _staff_duty(client, org, open_case, nxt, **extra):
    client.force_login(org.coordinator.user)
    url = reverse("middle_office:staff_duty", args=[org.member.pk])
    response = client.post(url, {"on_duty": "true", "next": nxt}, **extra)
    return response, reverse("middle_office:staff")


@pytest.mark.parametrize("page", [_task_step, _staff_duty], ids=["task_step", "staff_duty"])
@pytest.mark.parametrize("nxt", OFF_SITE)
def test_an_off_site_next_is_refused(client, org, open_case, page, nxt):
    response, fallback = page(client, org, open_case, nxt, secure=True)
    assert response.status_code == 302
    assert response["Location"] == fallback


@pytest.mark.parametrize("page", [_task_step, _staff_duty], ids=["task_step", "staff_duty"])
def test_a_path_on_this_site_is_followed(client, org, open_case, page):
    target = reverse("middle_office:staff") + "?duty=off"
    response, _fallback = page(client, org, open_case, target, secure=True)
    assert (response.status_code, response["Location"]) == (302, target)

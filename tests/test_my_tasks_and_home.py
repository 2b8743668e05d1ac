"""My tasks and the home page (issue #13): a task sent back is marked with the approver's
opinion (defect 3); every home card counts the list it links to (defect 8)."""

from __future__ import annotations

import dataclasses
import html
import re

import pytest
from django.urls import reverse

from taxservice import access
from taxservice.org.models import Staff
from taxservice.workflow.cases import services

pytestmark = pytest.mark.django_db

CARD = re.compile(r'<a class="card" href="(?P<href>[^"]+)">\s*<span class="card-number">(?P<count>\d+)</span>')


def _step(task, actor, name, **inputs):
    return services.task_transition(task_id=task.pk, actor=actor, name=name, **inputs)


def _a_working_day(org, open_case):
    """Tasks in most states, at both halls and in several teams."""
    _step(open_case("assisted").tasks.get(), org.clerk, "transfer")  # queued in the online team
    open_case("immediate")  # received at the counter, not handled yet
    open_case("immediate").tasks.get()
    on_spot = open_case("immediate").tasks.get()
    _step(on_spot, org.clerk, "handle_on_spot", result="当场办结")  # a closed case
    joint = open_case("joint").tasks.get()
    _step(joint, org.clerk, "transfer")
    for name in ("assign", "accept"):
        _step(joint, org.back_member, name)
    _step(joint, org.back_member, "submit_for_approval", result="实地核查无异常")  # awaiting approval
    _step(open_case("moved_forward").tasks.get(), org.clerk, "transfer")
    second_hall = open_case("assisted", "approval", hall=org.hall2)
    for task in second_hall.tasks.all():
        _step(task, org.clerk, "transfer")
    held = second_hall.tasks.first()
    _step(held, org.member, "assign")
    _step(held, org.member, "accept")


def _staff(org) -> list[Staff]:
    return [value for value in (getattr(org, f.name) for f in dataclasses.fields(org)) if isinstance(value, Staff)]


def test_every_home_card_counts_the_list_it_links_to(client, org, open_case):
    _a_working_day(org, open_case)
    checked = 0
    for staff in _staff(org):
        if not access.can_use_web(staff):
            continue  # API-only accounts have no pages
        client.force_login(staff.user)
        home = client.get(reverse("home"))
        assert home.status_code == 200
        cards = [(html.unescape(m["href"]), int(m["count"])) for m in CARD.finditer(home.content.decode())]
        assert cards, f"{staff.name}: no cards"
        for href, count in cards:
            listed = client.get(href)
            assert listed.status_code == 200, f"{staff.name}: {href}"
            assert count == listed.context["page"].paginator.count, f"{staff.name}: the card for {href}"
            checked += 1
    # The clerk's, the member's, the coordinator's and the chief's cards, at least.
    assert checked >= 8

"""taxservice.access: one definition of who sees what, and pages that follow the named rules."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from taxservice import access
from taxservice.org.models import Staff
from taxservice.web.navigation import NAVIGATION
from taxservice.workflow.cases import selectors
from taxservice.workflow.cases.models import Case, Task


@pytest.fixture
def demo_city(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("seed_demo", "--taxpayers", "60", "--cases", "80", stdout=StringIO())


def test_the_predicate_and_the_queryset_filter_agree_for_every_staff_member_and_task(demo_city):
    tasks = list(Task.objects.select_related("team", "case"))
    staff = list(Staff.objects.select_related("home_branch").prefetch_related("role_rows", "teams"))
    assert len(tasks) > 50 and len(staff) > 10
    partial = 0
    for person in staff:
        by_query = set(selectors.task_list_for_staff(staff=person).values_list("pk", flat=True))
        by_predicate = {task.pk for task in tasks if access.can_see_task(person, task)}
        assert by_query == by_predicate, person.name
        partial += 0 < len(by_query) < len(tasks)
    assert partial, "the demo city should have staff who see some tasks but not all"


def test_every_visible_task_belongs_to_a_visible_case(demo_city):
    for person in Staff.objects.select_related("home_branch").prefetch_related("role_rows", "teams"):
        visible_cases = set(selectors.case_list_for_staff(staff=person).values_list("pk", flat=True))
        task_cases = set(
            selectors.task_list_for_staff(staff=person).exclude(case=None).values_list("case_id", flat=True)
        )
        assert task_cases <= visible_cases, person.name
        assert visible_cases <= set(Case.objects.values_list("pk", flat=True))


def test_each_screen_opens_exactly_for_those_its_rule_admits_and_the_navigation_agrees(client, org):
    people = [value for value in vars(org).values() if isinstance(value, Staff)]
    for person in people:
        client.force_login(person.user)
        home = client.get(reverse("home"))
        shown = {entry["url"] for entry in home.context["navigation"]} if home.status_code == 200 else set()
        for url_name, _label, rule in NAVIGATION:
            url = reverse(url_name)
            status = client.get(url).status_code
            if not access.can_use_web(person):  # API-only accounts: no page at all
                assert status == 403, (person.name, url_name)
            elif rule is None or rule(person):
                assert status == 200, (person.name, url_name)
                assert url in shown
            else:
                assert status == 403, (person.name, url_name)
                assert url not in shown


def test_services_refuse_with_the_rules_sentence(org):
    from taxservice.errors import ActionForbidden
    from taxservice.workflow.routing.services import robot_set_paused

    with pytest.raises(ActionForbidden) as refused:
        robot_set_paused(actor=org.clerk, paused=True, reason="试一下")
    assert refused.value.detail == str(access.can_pause_robot.refusal)
    assert not access.can_pause_robot(org.clerk) and access.can_pause_robot(org.coordinator)

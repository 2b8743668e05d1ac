"""Every API error is JSON with `code` and `detail`: the thirteen inputs that answered an HTML 500."""

from __future__ import annotations

import pytest

from taxservice.workflow.routing.models import RoutingRule


def rule(name="r1"):
    return RoutingRule.objects.create(name=name, priority=50, target="city", chooser="random")


def assert_json_error(response, status):
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert isinstance(body.get("code"), str) and body["code"], body
    assert isinstance(body.get("detail"), str) and body["detail"], body
    return body


class TestThirteenInputs:
    @pytest.mark.parametrize("path", ["/api/v1/tasks/abc/transitions/", "/api/v1/tasks/abc/dispatch/"])
    def test_non_numeric_task_id_is_404_json(self, api, org, path):
        response = api(org.coordinator).post(path, {"transition": "assign"}, format="json")
        assert_json_error(response, 404)

    def test_non_numeric_rule_id_is_404_json(self, api, org):
        response = api(org.admin).patch(
            "/api/v1/routing/rules/abc/", {"reason": "x", "changes": {"priority": 3}}, format="json"
        )
        assert_json_error(response, 404)

    @pytest.mark.parametrize(
        "path", ["/api/v1/tasks/?q=%00", "/api/v1/taxpayers/?q=a%00b", "/api/v1/hub/queue/?team=%00"]
    )
    def test_nul_in_the_query_is_400(self, api, org, path):
        body = assert_json_error(api(org.coordinator).get(path), 400)
        assert body["code"] == "nul_byte"

    def test_nul_in_the_path_is_400(self, api, org):
        body = assert_json_error(api(org.coordinator).get("/api/v1/taxpayers/91%0012/"), 400)
        assert body["code"] == "nul_byte"

    def test_nul_in_a_json_body_is_400_and_writes_nothing(self, api, org, items, taxpayer):
        response = api(org.integrator).post(
            "/api/v1/tasks/",
            {"source": "risk", "taxpayer": taxpayer.credit_code, "item": "A001", "notes": "a\x00b"},
            format="json",
        )
        assert assert_json_error(response, 400)["code"] == "nul_byte"

    def test_huge_older_than_hours_is_400(self, api, org):
        response = api(org.coordinator).get("/api/v1/hub/queue/", {"older_than_hours": 10**12})
        assert_json_error(response, 400)

    def test_rule_name_over_100_characters_is_400_and_writes_nothing(self, api, org, db):
        existing = rule()
        response = api(org.admin).patch(
            f"/api/v1/routing/rules/{existing.pk}/", {"reason": "x", "changes": {"name": "n" * 101}}, format="json"
        )
        body = assert_json_error(response, 400)
        assert "name" in str(body.get("fields"))
        existing.refresh_from_db()
        assert (existing.name, existing.version) == ("r1", existing.version)

    @pytest.mark.parametrize(
        "changes",
        [
            {"match_list": ["assisted"]},
            {"match_tier": {"a": 1}},
            {"filters": [["x"]]},
            {"filters": "capacity"},
            {"match_item": {"code": "A001"}},
            {"match_district": [1]},
            {"name": {"x": 1}},
            {"description": ["a"]},
            {"priority": "3"},
            {"active": "yes"},
            {"target": 5},
        ],
    )
    def test_wrong_json_types_in_rule_changes_are_400(self, api, org, changes, db):
        existing = rule()
        version = RoutingRule.objects.get(pk=existing.pk).version
        response = api(org.admin).patch(
            f"/api/v1/routing/rules/{existing.pk}/", {"reason": "x", "changes": changes}, format="json"
        )
        assert_json_error(response, 400)
        assert RoutingRule.objects.get(pk=existing.pk).version == version

    def test_json_nested_50000_deep_is_400(self, api, org):
        body = "[" * 50_000 + "]" * 50_000
        response = api(org.integrator).generic("POST", "/api/v1/tasks/", body, content_type="application/json")
        assert_json_error(response, 400)


class TestDjangoAndDrfErrors:
    def test_unknown_api_url_is_404_json(self, api, org):
        body = assert_json_error(api(org.clerk).get("/api/v1/no-such-thing/"), 404)
        assert body["code"] == "not_found"

    def test_unknown_task_id_is_404_json(self, api, org):
        body = assert_json_error(api(org.clerk).get("/api/v1/tasks/999999/"), 404)
        assert body["code"] == "not_found"

    def test_method_not_allowed_is_405_json(self, api, org):
        body = assert_json_error(api(org.clerk).delete("/api/v1/cases/"), 405)
        assert body["code"] == "method_not_allowed"

    def test_unsupported_media_type_is_415_json(self, api, org):
        response = api(org.clerk).generic("POST", "/api/v1/cases/", "a=b", content_type="text/plain")
        body = assert_json_error(response, 415)
        assert body["code"] == "unsupported_media_type"

    def test_malformed_json_is_400_json(self, api, org):
        response = api(org.clerk).generic("POST", "/api/v1/cases/", "{nope", content_type="application/json")
        body = assert_json_error(response, 400)
        assert body["code"] == "parse_error"

    def test_anonymous_is_401_or_403_json(self, client, db):
        response = client.get("/api/v1/cases/")
        assert response.status_code in {401, 403}
        assert response.json()["code"] in {"not_authenticated", "permission_denied"}


class TestPathIds:
    @pytest.mark.parametrize(
        "path",
        [
            "/api/v1/tasks/99999999999999999999999/",
            "/api/v1/cases/1e5/",
            "/api/v1/routing/rules/-1/",
            "/api/v1/calendar/recomputes/abc/",
            "/api/v1/classification/runs/99999999999999999999999/",
        ],
    )
    def test_an_id_that_is_no_bigint_is_404_json(self, api, org, path):
        assert_json_error(api(org.admin).get(path), 404)

    def test_a_numeric_id_still_resolves(self, api, org, open_case):
        task = open_case("assisted").tasks.get()
        assert api(org.clerk).get(f"/api/v1/tasks/{task.pk}/").status_code == 200


class TestHubQueueBounds:
    @pytest.mark.parametrize(
        "params",
        [{"older_than_hours": "9" * 5000}, {"older_than_hours": -1}, {"due_before": "not a date"}],
    )
    def test_bad_filters_are_400(self, api, org, params):
        assert_json_error(api(org.coordinator).get("/api/v1/hub/queue/", params), 400)

    @pytest.mark.parametrize("moment", ["0001-01-01T00:00:00", "9999-12-31T23:59:59"])
    def test_extreme_due_before_is_no_500(self, api, org, moment):
        response = api(org.coordinator).get("/api/v1/hub/queue/", {"due_before": moment})
        assert response.status_code in {200, 400}, response.content[:300]


class TestNoEmptyChanges:
    def test_an_empty_rule_change_is_400_and_writes_no_version(self, api, org, db):
        from taxservice.workflow.routing.models import RoutingRuleChange

        existing = rule()
        response = api(org.admin).patch(
            f"/api/v1/routing/rules/{existing.pk}/", {"reason": "nothing", "changes": {}}, format="json"
        )
        assert assert_json_error(response, 400)["code"] == "nothing_to_change"
        assert RoutingRule.objects.get(pk=existing.pk).version == existing.version
        assert not RoutingRuleChange.objects.filter(rule=existing).exists()

    def test_a_typed_rule_change_still_saves(self, api, org, db):
        existing = rule()
        response = api(org.admin).patch(
            f"/api/v1/routing/rules/{existing.pk}/",
            {"reason": "tune", "changes": {"priority": 7, "active": False, "filters": ["on_duty"], "match_list": None}},
            format="json",
        )
        assert response.status_code == 200, response.json()
        existing.refresh_from_db()
        assert (existing.priority, existing.active, existing.filters) == (7, False, ["on_duty"])

    def test_unknown_rule_fields_are_400(self, api, org, db):
        existing = rule()
        response = api(org.admin).patch(
            f"/api/v1/routing/rules/{existing.pk}/", {"reason": "x", "changes": {"colour": "red"}}, format="json"
        )
        assert "colour" in str(assert_json_error(response, 400)["fields"])

    def test_reassigning_to_the_current_assignee_is_400_and_writes_nothing(self, api, org, open_case):
        from taxservice.workflow.cases import services
        from taxservice.workflow.cases.models import TaskTransition

        task = open_case("assisted").tasks.get()
        services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
        services.task_transition(task_id=task.pk, actor=org.member, name="assign")
        before = TaskTransition.objects.filter(task=task).count()
        response = api(org.coordinator).post(
            f"/api/v1/tasks/{task.pk}/transitions/",
            {"transition": "reassign", "assignee": org.member.pk, "reason": "again"},
            format="json",
        )
        assert assert_json_error(response, 400)["code"] == "same_assignee"
        assert TaskTransition.objects.filter(task=task).count() == before


def test_an_id_too_large_for_the_database_in_a_body_is_no_500(api, org, open_case):
    from taxservice.workflow.cases import services

    task = open_case("assisted").tasks.get()
    services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
    services.task_transition(task_id=task.pk, actor=org.member, name="assign")
    response = api(org.coordinator).post(
        f"/api/v1/tasks/{task.pk}/transitions/",
        {"transition": "reassign", "assignee": 10**30, "reason": "x"},
        format="json",
    )
    assert_json_error(response, 400)


def test_every_id_in_an_api_path_is_a_bounded_number():
    """Each `{…id}`/`{pk}` of /api/v1/ is 1–18 digits (ApiRouter or the `id` converter), not `int`/`str`."""
    from django.urls import URLPattern, URLResolver, get_resolver

    from taxservice.api.routers import ID_REGEX, IdConverter

    def walk(patterns, prefix=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                yield prefix + str(entry.pattern), entry.pattern

    checked = 0
    for route, pattern in walk(get_resolver().url_patterns):
        if not route.startswith("api/v1/"):
            continue
        converters = getattr(pattern, "converters", {})
        regex = getattr(pattern, "_regex", "")
        for name, converter in converters.items():
            if name.endswith("id") or name == "pk":
                assert isinstance(converter, IdConverter), (route, name, converter)
                checked += 1
        if "(?P<pk>" in regex:
            assert f"(?P<pk>{ID_REGEX})" in regex, route
            checked += 1
    assert checked >= 20


@pytest.mark.parametrize(
    "path", ["/api/v1/cases/abc/rating/", "/api/v1/inspections/99999999999999999999999/", "/api/v1/staff/x/leave/"]
)
def test_hand_written_paths_refuse_bad_ids_with_404(api, org, path):
    assert_json_error(api(org.admin).get(path), 404)
